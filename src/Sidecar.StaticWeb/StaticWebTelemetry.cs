using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Sidecar.StaticWeb;

/// <summary>
/// The server's own traces and metrics: a span per revision switch, switches, cache lookups and fast-path
/// answers counted; fast-path answers also go into ASP.NET Core's own <c>http.server.request.duration</c>.
/// </summary>
public sealed class StaticWebTelemetry : IDisposable
{
    public const string Name = "Sidecar.StaticWeb";
    public const string RevisionSwitchSpan = "revision switch";
    public const string RevisionTag = "staticweb.revision";
    public const string FastPathTag = "staticweb.fast_path";
    public const string HostingMeter = "Microsoft.AspNetCore.Hosting";

    private readonly Meter meter;
    private readonly Counter<long> switches;
    private readonly Counter<long> cacheLookups;
    private readonly Counter<long> fastResponses;
    private readonly Histogram<double> requestDuration;
    private static readonly object Ok = StatusCodes.Status200OK;

    public StaticWebTelemetry(IMeterFactory meterFactory)
    {
        ActivitySource = new ActivitySource(Name);
        meter = meterFactory.Create(Name);
        switches = meter.CreateCounter<long>("staticweb.revision.switches", "{switch}", "Times the served revision changed, by how it was noticed: request or webhook.");
        fastResponses = meter.CreateCounter<long>("staticweb.fast_path.responses", "{response}", "Responses sent by the fast path, before Kestrel's HTTP layer, by method; they are in http.server.request.duration too.");
        // ASP.NET Core's instrument itself: the factory hands out one meter per name and the meter one
        // instrument per name, unit and description, so these requests are counted with all the others.
        requestDuration = meterFactory.Create(HostingMeter).CreateHistogram<double>(
            "http.server.request.duration", "s", "Duration of HTTP server requests.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] });
        cacheLookups = meter.CreateCounter<long>("staticweb.cache.lookups", "{lookup}", "File lookups by result: hit (served from memory) or miss (read from disk).");
    }

    public ActivitySource ActivitySource { get; }

    public void RecordSwitch(string source) => switches.Add(1, new KeyValuePair<string, object?>("source", source));

    public void RecordLookup(bool hit)
    {
        if (cacheLookups.Enabled)
        {
            cacheLookups.Add(1, new KeyValuePair<string, object?>("result", hit ? "hit" : "miss"));
        }
    }

    /// <summary>A fast-path answer (status 200), started at <paramref name="startTimestamp"/> (<see cref="Stopwatch.GetTimestamp"/>).</summary>
    public void RecordFastResponse(bool head, long startTimestamp)
    {
        var method = head ? "HEAD" : "GET";
        if (fastResponses.Enabled)
        {
            fastResponses.Add(1, new KeyValuePair<string, object?>("http.request.method", method));
        }
        if (requestDuration.Enabled)
        {
            // The tags ASP.NET Core gives a request that no endpoint routed, as the site's requests are.
            var tags = new TagList
            {
                { "url.scheme", "http" },
                { "http.request.method", method },
                { "network.protocol.version", "1.1" },
                { "http.response.status_code", Ok },
            };
            requestDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, tags);
        }
    }

    public void Dispose()
    {
        ActivitySource.Dispose();
        meter.Dispose();
    }
}
