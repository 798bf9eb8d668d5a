using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Sidecar.StaticWeb;

/// <summary>The server's own traces and metrics: a span per revision switch, switches and cache lookups counted.</summary>
public sealed class StaticWebTelemetry : IDisposable
{
    public const string Name = "Sidecar.StaticWeb";
    public const string RevisionSwitchSpan = "revision switch";
    public const string RevisionTag = "staticweb.revision";
    public const string FastPathTag = "staticweb.fast_path";

    private readonly Meter meter;
    private readonly Counter<long> switches;
    private readonly Counter<long> cacheLookups;
    private readonly Counter<long> fastResponses;

    public StaticWebTelemetry(IMeterFactory meterFactory)
    {
        ActivitySource = new ActivitySource(Name);
        meter = meterFactory.Create(Name);
        switches = meter.CreateCounter<long>("staticweb.revision.switches", "{switch}", "Times the served revision changed, by how it was noticed: request or webhook.");
        fastResponses = meter.CreateCounter<long>("staticweb.fast_path.responses", "{response}", "Responses sent by the fast path, before Kestrel's HTTP layer, by method; these are not in http.server.request.duration.");
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

    public void RecordFastResponse(bool head)
    {
        if (fastResponses.Enabled)
        {
            fastResponses.Add(1, new KeyValuePair<string, object?>("http.request.method", head ? "HEAD" : "GET"));
        }
    }

    public void Dispose()
    {
        ActivitySource.Dispose();
        meter.Dispose();
    }
}
