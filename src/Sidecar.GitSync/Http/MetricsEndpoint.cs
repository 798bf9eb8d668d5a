using System.Globalization;
using System.Text;
using Sidecar.GitSync.Telemetry;

namespace Sidecar.GitSync.Http;

/// <summary><c>GET /metrics</c> (<c>--http-metrics</c>): Prometheus text with git-sync's metric names, so its dashboards and alerts keep working.</summary>
public static class MetricsEndpoint
{
    public static IEndpointRouteBuilder MapPrometheusMetrics(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/metrics", (GitSyncTelemetry telemetry) =>
            Results.Text(Render(telemetry), "text/plain; version=0.0.4; charset=utf-8"));
        return endpoints;
    }

    public static string Render(GitSyncTelemetry telemetry)
    {
        var text = new StringBuilder();
        text.Append("# HELP git_sync_count_total How many git syncs completed, partitioned by state (success, error, noop)\n");
        text.Append("# TYPE git_sync_count_total counter\n");
        foreach (var outcome in new[] { "error", "noop", "success" })
        {
            text.Append(CultureInfo.InvariantCulture, $"git_sync_count_total{{status=\"{outcome}\"}} {telemetry.Totals.SyncCounts.GetValueOrDefault(outcome)}\n");
        }
        text.Append("# HELP git_sync_duration_seconds Summary of git_sync durations\n");
        text.Append("# TYPE git_sync_duration_seconds histogram\n");
        foreach (var (outcome, histogram) in telemetry.Totals.Durations.OrderBy(d => d.Key, StringComparer.Ordinal))
        {
            var (buckets, count, sum) = histogram.Read();
            for (var i = 0; i < buckets.Length; i++)
            {
                text.Append(CultureInfo.InvariantCulture, $"git_sync_duration_seconds_bucket{{status=\"{outcome}\",le=\"{GitSyncTelemetry.DurationBuckets[i]}\"}} {buckets[i]}\n");
            }
            text.Append(CultureInfo.InvariantCulture, $"git_sync_duration_seconds_bucket{{status=\"{outcome}\",le=\"+Inf\"}} {count}\n");
            text.Append(CultureInfo.InvariantCulture, $"git_sync_duration_seconds_sum{{status=\"{outcome}\"}} {sum}\n");
            text.Append(CultureInfo.InvariantCulture, $"git_sync_duration_seconds_count{{status=\"{outcome}\"}} {count}\n");
        }
        text.Append("# HELP git_fetch_count_total How many git fetches were run\n");
        text.Append("# TYPE git_fetch_count_total counter\n");
        text.Append(CultureInfo.InvariantCulture, $"git_fetch_count_total {telemetry.Totals.FetchCount}\n");
        text.Append("# HELP git_sync_hook_run_count_total How many hook runs completed, partitioned by name and state (success, error)\n");
        text.Append("# TYPE git_sync_hook_run_count_total counter\n");
        foreach (var ((name, status), count) in telemetry.Totals.HookCounts.OrderBy(h => h.Key))
        {
            text.Append(CultureInfo.InvariantCulture, $"git_sync_hook_run_count_total{{name=\"{name}\",status=\"{status}\"}} {count}\n");
        }
        AppendLabelledCounter(text, "git_sync_askpass_calls", "How many git askpass calls completed, partitioned by state (success, error)", "status", telemetry.Totals.AskPassCounts);
        AppendLabelledCounter(text, "git_sync_refresh_github_app_token_count", "How many times the GitHub app token was refreshed, partitioned by state (success, error)", "status", telemetry.Totals.GitHubAppTokenCounts);
        text.Append("# HELP gitsync_sync_requests_refused_total POST /sync requests refused for a missing or wrong secret\n");
        text.Append("# TYPE gitsync_sync_requests_refused_total counter\n");
        text.Append(CultureInfo.InvariantCulture, $"gitsync_sync_requests_refused_total {telemetry.Totals.RefusedSyncRequests}\n");
        AppendLabelledCounter(text, "gitsync_signature_verifications_total", "Signature verifications (--verify-signatures) by verdict (good, unsigned, untrusted, bad)", "verdict", telemetry.Totals.SignatureVerdicts);
        return text.ToString();
    }

    /// <summary>A counter with one label, its series in the label's ordinal order.</summary>
    private static void AppendLabelledCounter(StringBuilder text, string name, string help, string label, IReadOnlyDictionary<string, long> counts)
    {
        text.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n");
        text.Append(CultureInfo.InvariantCulture, $"# TYPE {name} counter\n");
        foreach (var (value, count) in counts.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            text.Append(CultureInfo.InvariantCulture, $"{name}{{{label}=\"{value}\"}} {count}\n");
        }
    }
}
