using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Sidecar.StaticWeb.Telemetry;

/// <summary>
/// The server's own traces and metrics: a span per revision switch, switches and cache lookups
/// counted. Requests themselves are ASP.NET Core's (its spans and <c>http.server.request.duration</c>).
/// </summary>
public sealed class StaticWebTelemetry : IDisposable
{
    public const string Name = "Sidecar.StaticWeb";
    public const string RevisionSwitchSpan = "revision switch";
    public const string RevisionTag = "staticweb.revision";

    private readonly Meter meter;
    private readonly Counter<long> switches;
    private long cacheHits;
    private long cacheMisses;

    public StaticWebTelemetry(IMeterFactory meterFactory)
    {
        ActivitySource = new ActivitySource(Name);
        meter = meterFactory.Create(Name);
        switches = meter.CreateCounter<long>("staticweb.revision.switches", "{switch}", "Times the served revision changed, by how it was noticed: request or webhook.");
        // Observed when collected: a request only increments a number, instead of a tagged measurement per lookup.
        meter.CreateObservableCounter("staticweb.cache.lookups", () => new Measurement<long>[]
            {
                new(Interlocked.Read(ref cacheHits), new KeyValuePair<string, object?>("result", "hit")),
                new(Interlocked.Read(ref cacheMisses), new KeyValuePair<string, object?>("result", "miss")),
            }, "{lookup}", "File lookups by result: hit (served from memory) or miss (read from disk).");
    }

    public ActivitySource ActivitySource { get; }

    public void RecordSwitch(string source) => switches.Add(1, new KeyValuePair<string, object?>("source", source));

    public void RecordLookup(bool hit) => Interlocked.Increment(ref hit ? ref cacheHits : ref cacheMisses);

    public void Dispose()
    {
        ActivitySource.Dispose();
        meter.Dispose();
    }
}
