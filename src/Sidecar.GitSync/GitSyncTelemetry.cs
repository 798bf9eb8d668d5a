using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Sidecar.GitSync;

/// <summary>The sidecar's traces and metrics: one trace per sync, syncs counted by outcome.</summary>
public sealed class GitSyncTelemetry : IDisposable
{
    public const string Name = "Sidecar.GitSync";

    public static readonly ActivitySource ActivitySource = new(Name);

    private readonly Meter meter;
    private readonly Counter<long> syncs;
    private readonly Histogram<double> syncDuration;

    public GitSyncTelemetry(IMeterFactory meterFactory)
    {
        meter = meterFactory.Create(Name);
        syncs = meter.CreateCounter<long>("gitsync.syncs", "{sync}", "Syncs by outcome: success (a new revision was published), noop (nothing changed) or error.");
        syncDuration = meter.CreateHistogram<double>("gitsync.sync.duration", "s", "How long each sync took, by outcome.");
    }

    public void RecordSync(SyncOutcome outcome, TimeSpan duration)
    {
        var tag = new KeyValuePair<string, object?>("outcome", outcome.ToString().ToLowerInvariant());
        syncs.Add(1, tag);
        syncDuration.Record(duration.TotalSeconds, tag);
    }

    public void Dispose() => meter.Dispose();
}

public enum SyncOutcome
{
    Success,
    Noop,
    Error,
}
