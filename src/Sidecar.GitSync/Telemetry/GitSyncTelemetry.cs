using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Sidecar.GitSync.Sync;

namespace Sidecar.GitSync.Telemetry;

/// <summary>
/// The sidecar's traces and metrics: one trace per sync; syncs, fetches, hook runs and refused sync requests
/// counted, for OTLP (the dashboard) and for git-sync's Prometheus names at <c>/metrics</c>.
/// </summary>
public sealed class GitSyncTelemetry : IDisposable
{
    public const string Name = "Sidecar.GitSync";

    public static readonly ActivitySource ActivitySource = new(Name);

    /// <summary>The upper bounds of git_sync_duration_seconds, as Prometheus' default buckets.</summary>
    public static readonly double[] DurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly Meter meter;
    private readonly Counter<long> syncs;
    private readonly Histogram<double> syncDuration;
    private readonly Counter<long> fetches;
    private readonly Counter<long> hookRuns;
    private readonly Counter<long> refusedSyncRequests;
    private readonly Counter<long> signatureVerdicts;

    private readonly ConcurrentDictionary<string, long> syncCounts = new();
    private readonly ConcurrentDictionary<(string Name, string Status), long> hookCounts = new();
    private readonly ConcurrentDictionary<string, DurationHistogram> durations = new();
    private readonly ConcurrentDictionary<string, long> askPassCounts = new();
    private readonly ConcurrentDictionary<string, long> gitHubAppTokenCounts = new();
    private readonly ConcurrentDictionary<string, long> signatureCounts = new();
    private long fetchCount;
    private long refusedCount;

    public GitSyncTelemetry(IMeterFactory meterFactory, SyncStatus status, TimeProvider timeProvider)
    {
        meter = meterFactory.Create(Name);
        meter.CreateObservableGauge("gitsync.revision.age",
            () => status.PublishedSince is { } since
                ? [new Measurement<double>((timeProvider.GetUtcNow() - since).TotalSeconds)]
                : Array.Empty<Measurement<double>>(),
            "s", "How long the published revision has been the one served: time since it was published, or found in place at start.");
        syncs = meter.CreateCounter<long>("gitsync.syncs", "{sync}", "Syncs by outcome: success (a new revision was published), noop (nothing changed) or error.");
        syncDuration = meter.CreateHistogram<double>("gitsync.sync.duration", "s", "How long each sync took, by outcome.");
        fetches = meter.CreateCounter<long>("gitsync.fetches", "{fetch}", "Fetches from the remote.");
        hookRuns = meter.CreateCounter<long>("gitsync.hook.runs", "{run}", "Hook runs by hook (webhook, exechook) and status (success, error).");
        refusedSyncRequests = meter.CreateCounter<long>("gitsync.sync_requests.refused", "{request}", "POST /sync requests refused for a missing or wrong secret.");
        signatureVerdicts = meter.CreateCounter<long>("gitsync.signature.verifications", "{verification}",
            "Signature verifications (--verify-signatures) by verdict (good, unsigned, untrusted, bad) and mode (audit, enforce).");
    }

    public void RecordSync(SyncOutcome outcome, TimeSpan duration)
    {
        var name = outcome.ToString().ToLowerInvariant();
        var tag = new KeyValuePair<string, object?>("outcome", name);
        syncs.Add(1, tag);
        syncDuration.Record(duration.TotalSeconds, tag);
        syncCounts.AddOrUpdate(name, 1, (_, n) => n + 1);
        durations.GetOrAdd(name, _ => new DurationHistogram()).Record(duration.TotalSeconds);
    }

    public void RecordFetch()
    {
        fetches.Add(1);
        Interlocked.Increment(ref fetchCount);
    }

    public void RecordHook(string hook, bool succeeded)
    {
        var status = succeeded ? "success" : "error";
        hookRuns.Add(1, new("name", hook), new("status", status));
        hookCounts.AddOrUpdate((hook, status), 1, (_, n) => n + 1);
    }

    /// <summary>One call of <c>--askpass-url</c>: git-sync's <c>git_sync_askpass_calls{status}</c>.</summary>
    public void RecordAskPass(bool succeeded) => askPassCounts.AddOrUpdate(succeeded ? "success" : "error", 1, (_, n) => n + 1);

    /// <summary>One GitHub App token refresh: git-sync's <c>git_sync_refresh_github_app_token_count{status}</c>.</summary>
    public void RecordGitHubAppTokenRefresh(bool succeeded) => gitHubAppTokenCounts.AddOrUpdate(succeeded ? "success" : "error", 1, (_, n) => n + 1);

    public IReadOnlyDictionary<string, long> AskPassCounts => askPassCounts;

    public IReadOnlyDictionary<string, long> GitHubAppTokenCounts => gitHubAppTokenCounts;

    public void RecordRefusedSyncRequest()
    {
        refusedSyncRequests.Add(1);
        Interlocked.Increment(ref refusedCount);
    }

    public void RecordSignatureVerdict(string verdict, string mode)
    {
        signatureVerdicts.Add(1, new("verdict", verdict), new("mode", mode));
        signatureCounts.AddOrUpdate(verdict, 1, (_, n) => n + 1);
    }

    public IReadOnlyDictionary<string, long> SignatureVerdicts => signatureCounts;

    public long SyncCount(SyncOutcome outcome) => syncCounts.GetValueOrDefault(outcome.ToString().ToLowerInvariant());

    public long FetchCount => Interlocked.Read(ref fetchCount);

    public long RefusedSyncRequests => Interlocked.Read(ref refusedCount);

    public IReadOnlyDictionary<string, long> SyncCounts => syncCounts;

    public IReadOnlyDictionary<(string Name, string Status), long> HookCounts => hookCounts;

    public IReadOnlyDictionary<string, DurationHistogram> Durations => durations;

    public void Dispose() => meter.Dispose();
}

/// <summary>A cumulative histogram of sync durations for the Prometheus text exposition.</summary>
public sealed class DurationHistogram
{
    private readonly long[] buckets = new long[GitSyncTelemetry.DurationBuckets.Length];
    private long count;
    private double sum;

    public void Record(double seconds)
    {
        lock (buckets)
        {
            for (var i = 0; i < buckets.Length; i++)
            {
                if (seconds <= GitSyncTelemetry.DurationBuckets[i])
                {
                    buckets[i]++;
                }
            }
            count++;
            sum += seconds;
        }
    }

    public (long[] Buckets, long Count, double Sum) Read()
    {
        lock (buckets)
        {
            return ((long[])buckets.Clone(), count, sum);
        }
    }
}

public enum SyncOutcome
{
    Success,
    Noop,
    Error,
}
