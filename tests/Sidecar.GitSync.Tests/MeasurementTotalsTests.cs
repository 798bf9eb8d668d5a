using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Sidecar.GitSync.Http;
using Sidecar.GitSync.Sync;
using Sidecar.GitSync.Telemetry;

namespace Sidecar.GitSync.Tests;

/// <summary>
/// One source of truth for the metrics: what an OpenTelemetry-style listener reads from the instruments and what
/// <c>/metrics</c> renders come from the same recordings, so they cannot disagree.
/// </summary>
[Trait("Category", "Unit")]
public sealed class MeasurementTotalsTests : IDisposable
{
    private readonly ServiceProvider services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public void Dispose() => services.Dispose();

    private GitSyncTelemetry Telemetry() => new(services.GetRequiredService<IMeterFactory>(), new SyncStatus(), TimeProvider.System);

    [Fact]
    public void TheTextAndTheInstrumentsShowTheSameRecordings()
    {
        using var telemetry = Telemetry();
        var exported = new Dictionary<string, long>();
        using var otel = new MeterListener();
        var factory = services.GetRequiredService<IMeterFactory>();
        otel.InstrumentPublished = (instrument, listening) =>
        {
            // Only this test's meter: other tests running beside it record on meters of the same name.
            if (instrument.Meter.Name == GitSyncTelemetry.Name && ReferenceEquals(instrument.Meter.Scope, factory))
            {
                listening.EnableMeasurementEvents(instrument);
            }
        };
        otel.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            exported[instrument.Name] = exported.GetValueOrDefault(instrument.Name) + value);
        otel.Start();

        telemetry.RecordSync(SyncOutcome.Success, TimeSpan.FromMilliseconds(30));
        telemetry.RecordSync(SyncOutcome.Noop, TimeSpan.FromSeconds(20));
        telemetry.RecordSync(SyncOutcome.Success, TimeSpan.FromSeconds(3));
        telemetry.RecordFetch();
        telemetry.RecordFetch();
        telemetry.RecordHook("webhook", succeeded: false);
        telemetry.RecordAskPass(succeeded: true);
        telemetry.RecordGitHubAppTokenRefresh(succeeded: false);
        telemetry.RecordRefusedSyncRequest();
        telemetry.RecordSignatureVerdict("good", "audit");
        telemetry.RecordSignatureVerdict("good", "enforce");

        Assert.Equal(3, exported["gitsync.syncs"]);
        Assert.Equal(2, exported["gitsync.fetches"]);
        Assert.Equal(1, exported["gitsync.hook.runs"]);
        Assert.Equal(1, exported["gitsync.askpass.calls"]);
        Assert.Equal(1, exported["gitsync.github_app_token.refreshes"]);
        Assert.Equal(1, exported["gitsync.sync_requests.refused"]);
        Assert.Equal(2, exported["gitsync.signature.verifications"]);

        var text = MetricsEndpoint.Render(telemetry).Split('\n');
        Assert.Contains("git_sync_count_total{status=\"success\"} 2", text);
        Assert.Contains("git_sync_count_total{status=\"noop\"} 1", text);
        Assert.Contains("git_sync_count_total{status=\"error\"} 0", text);
        Assert.Contains("git_sync_duration_seconds_bucket{status=\"success\",le=\"0.05\"} 1", text);
        Assert.Contains("git_sync_duration_seconds_bucket{status=\"success\",le=\"5\"} 2", text);
        Assert.Contains("git_sync_duration_seconds_bucket{status=\"noop\",le=\"10\"} 0", text);
        Assert.Contains("git_sync_duration_seconds_bucket{status=\"noop\",le=\"+Inf\"} 1", text);
        Assert.Contains("git_sync_duration_seconds_sum{status=\"success\"} 3.03", text);
        Assert.Contains("git_fetch_count_total 2", text);
        Assert.Contains("git_sync_hook_run_count_total{name=\"webhook\",status=\"error\"} 1", text);
        Assert.Contains("git_sync_askpass_calls{status=\"success\"} 1", text);
        Assert.Contains("git_sync_refresh_github_app_token_count{status=\"error\"} 1", text);
        Assert.Contains("gitsync_sync_requests_refused_total 1", text);
        Assert.Contains("gitsync_signature_verifications_total{verdict=\"good\"} 2", text);
    }

    [Fact]
    public void TwoSidecarsInOneProcessCountApart()
    {
        // Each telemetry listens to its own meter only; a second factory's meter of the same name is another's.
        using var otherServices = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var one = Telemetry();
        using var other = new GitSyncTelemetry(otherServices.GetRequiredService<IMeterFactory>(), new SyncStatus(), TimeProvider.System);

        one.RecordFetch();

        Assert.Equal(1, one.Totals.FetchCount);
        Assert.Equal(0, other.Totals.FetchCount);
    }
}
