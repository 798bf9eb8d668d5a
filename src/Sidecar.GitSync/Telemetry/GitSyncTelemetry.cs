using System.Diagnostics;
using System.Diagnostics.Metrics;
using Sidecar.GitSync.Sync;

namespace Sidecar.GitSync.Telemetry;

/// <summary>
/// The sidecar's traces and metrics: one trace per sync; syncs, fetches, hook runs, credential refreshes and refused
/// sync requests counted. Each is recorded once, on an instrument: OpenTelemetry exports the instruments (OTLP, the
/// dashboard), and <see cref="Totals"/> listens to the same instruments for git-sync's Prometheus text at <c>/metrics</c>.
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
    private readonly Counter<long> askPassCalls;
    private readonly Counter<long> gitHubAppTokenRefreshes;
    private readonly Counter<long> refusedSyncRequests;
    private readonly Counter<long> signatureVerdicts;

    public GitSyncTelemetry(IMeterFactory meterFactory, SyncStatus status, TimeProvider timeProvider)
    {
        meter = meterFactory.Create(Name);
        // Listening before the instruments exist, so it sees each one as it is created.
        Totals = new MeasurementTotals(meter);
        meter.CreateObservableGauge("gitsync.revision.age",
            () => status.PublishedSince is { } since
                ? [new Measurement<double>((timeProvider.GetUtcNow() - since).TotalSeconds)]
                : Array.Empty<Measurement<double>>(),
            "s", "How long the published revision has been the one served: time since it was published, or found in place at start.");
        syncs = meter.CreateCounter<long>(MeasurementTotals.Names.Syncs, "{sync}", "Syncs by outcome: success (a new revision was published), noop (nothing changed) or error.");
        syncDuration = meter.CreateHistogram<double>(MeasurementTotals.Names.SyncDuration, "s", "How long each sync took, by outcome.");
        fetches = meter.CreateCounter<long>(MeasurementTotals.Names.Fetches, "{fetch}", "Fetches from the remote.");
        hookRuns = meter.CreateCounter<long>(MeasurementTotals.Names.HookRuns, "{run}", "Hook runs by hook (webhook, exechook) and status (success, error).");
        askPassCalls = meter.CreateCounter<long>(MeasurementTotals.Names.AskPassCalls, "{call}", "Calls of --askpass-url by status (success, error).");
        gitHubAppTokenRefreshes = meter.CreateCounter<long>(MeasurementTotals.Names.GitHubAppTokenRefreshes, "{refresh}",
            "GitHub App installation token refreshes by status (success, error).");
        refusedSyncRequests = meter.CreateCounter<long>(MeasurementTotals.Names.RefusedSyncRequests, "{request}", "POST /sync requests refused for a missing or wrong secret.");
        signatureVerdicts = meter.CreateCounter<long>(MeasurementTotals.Names.SignatureVerifications, "{verification}",
            "Signature verifications (--verify-signatures) by verdict (good, unsigned, untrusted, bad) and mode (audit, enforce).");
    }

    /// <summary>What the instruments have counted so far, for the Prometheus text.</summary>
    public MeasurementTotals Totals { get; }

    public void RecordSync(SyncOutcome outcome, TimeSpan duration)
    {
        var tag = new KeyValuePair<string, object?>("outcome", outcome.ToString().ToLowerInvariant());
        syncs.Add(1, tag);
        syncDuration.Record(duration.TotalSeconds, tag);
    }

    public void RecordFetch() => fetches.Add(1);

    public void RecordHook(string hook, bool succeeded) => hookRuns.Add(1, new("name", hook), new("status", Status(succeeded)));

    /// <summary>One call of <c>--askpass-url</c>: git-sync's <c>git_sync_askpass_calls{status}</c>.</summary>
    public void RecordAskPass(bool succeeded) => askPassCalls.Add(1, new KeyValuePair<string, object?>("status", Status(succeeded)));

    /// <summary>One GitHub App token refresh: git-sync's <c>git_sync_refresh_github_app_token_count{status}</c>.</summary>
    public void RecordGitHubAppTokenRefresh(bool succeeded) => gitHubAppTokenRefreshes.Add(1, new KeyValuePair<string, object?>("status", Status(succeeded)));

    public void RecordRefusedSyncRequest() => refusedSyncRequests.Add(1);

    public void RecordSignatureVerdict(string verdict, string mode) => signatureVerdicts.Add(1, new("verdict", verdict), new("mode", mode));

    public long SyncCount(SyncOutcome outcome) => Totals.SyncCounts.GetValueOrDefault(outcome.ToString().ToLowerInvariant());

    private static string Status(bool succeeded) => succeeded ? "success" : "error";

    public void Dispose()
    {
        Totals.Dispose();
        meter.Dispose();
    }
}
