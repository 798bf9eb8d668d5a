using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Sidecar.GitSync.Telemetry;

/// <summary>
/// The running totals git-sync's <c>/metrics</c> text shows, collected by a <see cref="MeterListener"/> from the
/// sidecar's own instruments: a measurement is recorded once, on its instrument, and OpenTelemetry and the Prometheus
/// text both read it from there.
/// </summary>
public sealed class MeasurementTotals : IDisposable
{
    /// <summary>The instruments' names, as OpenTelemetry exports them.</summary>
    public static class Names
    {
        public const string Syncs = "gitsync.syncs";
        public const string SyncDuration = "gitsync.sync.duration";
        public const string Fetches = "gitsync.fetches";
        public const string HookRuns = "gitsync.hook.runs";
        public const string AskPassCalls = "gitsync.askpass.calls";
        public const string GitHubAppTokenRefreshes = "gitsync.github_app_token.refreshes";
        public const string RefusedSyncRequests = "gitsync.sync_requests.refused";
        public const string SignatureVerifications = "gitsync.signature.verifications";
    }

    private readonly MeterListener listener = new();
    private readonly ConcurrentDictionary<string, long> syncCounts = new();
    private readonly ConcurrentDictionary<(string Name, string Status), long> hookCounts = new();
    private readonly ConcurrentDictionary<string, DurationHistogram> durations = new();
    private readonly ConcurrentDictionary<string, long> askPassCounts = new();
    private readonly ConcurrentDictionary<string, long> gitHubAppTokenCounts = new();
    private readonly ConcurrentDictionary<string, long> signatureCounts = new();
    private long fetchCount;
    private long refusedCount;

    public MeasurementTotals(Meter meter)
    {
        listener.InstrumentPublished = (instrument, listening) =>
        {
            if (ReferenceEquals(instrument.Meter, meter))
            {
                listening.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>(OnCount);
        listener.SetMeasurementEventCallback<double>(OnDuration);
        listener.Start();
    }

    public IReadOnlyDictionary<string, long> SyncCounts => syncCounts;

    public IReadOnlyDictionary<string, DurationHistogram> Durations => durations;

    public long FetchCount => Interlocked.Read(ref fetchCount);

    public IReadOnlyDictionary<(string Name, string Status), long> HookCounts => hookCounts;

    public IReadOnlyDictionary<string, long> AskPassCounts => askPassCounts;

    public IReadOnlyDictionary<string, long> GitHubAppTokenCounts => gitHubAppTokenCounts;

    public long RefusedSyncRequests => Interlocked.Read(ref refusedCount);

    /// <summary>Verifications by verdict, whatever the mode (git-sync's text has no mode label).</summary>
    public IReadOnlyDictionary<string, long> SignatureVerdicts => signatureCounts;

    private void OnCount(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        switch (instrument.Name)
        {
            case Names.Syncs:
                Add(syncCounts, Tag(tags, "outcome"), value);
                break;
            case Names.Fetches:
                Interlocked.Add(ref fetchCount, value);
                break;
            case Names.HookRuns:
                hookCounts.AddOrUpdate((Tag(tags, "name"), Tag(tags, "status")), value, (_, n) => n + value);
                break;
            case Names.AskPassCalls:
                Add(askPassCounts, Tag(tags, "status"), value);
                break;
            case Names.GitHubAppTokenRefreshes:
                Add(gitHubAppTokenCounts, Tag(tags, "status"), value);
                break;
            case Names.RefusedSyncRequests:
                Interlocked.Add(ref refusedCount, value);
                break;
            case Names.SignatureVerifications:
                Add(signatureCounts, Tag(tags, "verdict"), value);
                break;
        }
    }

    private void OnDuration(Instrument instrument, double seconds, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        if (instrument.Name == Names.SyncDuration)
        {
            durations.GetOrAdd(Tag(tags, "outcome"), _ => new DurationHistogram()).Record(seconds);
        }
    }

    private static void Add(ConcurrentDictionary<string, long> counts, string key, long value) => counts.AddOrUpdate(key, value, (_, n) => n + value);

    private static string Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string name)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == name)
            {
                return tag.Value as string ?? "";
            }
        }
        return "";
    }

    public void Dispose() => listener.Dispose();
}
