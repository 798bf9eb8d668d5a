using System.Collections.Immutable;
using System.Net;
using System.Net.Http.Json;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Aspire.Hosting;

/// <summary>
/// Reads the sidecar's <c>GET /status</c>: unhealthy until a revision is published, degraded while syncs
/// fail (the last good revision is still served), healthy otherwise. It also shows the revision and the
/// last outcome as properties of the resource in the dashboard.
/// </summary>
internal sealed class GitSyncStatusHealthCheck(GitSyncResource sync, IServiceProvider services) : IHealthCheck
{
    private SyncStatusDocument? shown;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        SyncStatusDocument? document;
        try
        {
            using var client = services.GetRequiredService<IHttpClientFactory>().CreateClient(nameof(GitSyncStatusHealthCheck));
            // Until the sidecar listens, the orchestrator's proxy may hold the connection open: don't wait for it.
            client.Timeout = TimeSpan.FromSeconds(5);
            var baseUri = new Uri(sync.StatusEndpoint.Url);
            using var response = await client.GetAsync(new Uri(baseUri, "/status"), cancellationToken);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                // A git-sync without /status (kubernetes/git-sync itself): its GET / readiness is all there is.
                using var readiness = await client.GetAsync(baseUri, cancellationToken);
                return readiness.IsSuccessStatusCode
                    ? HealthCheckResult.Healthy("ready: a revision is published")
                    : HealthCheckResult.Unhealthy($"not ready ({(int)readiness.StatusCode}): no revision published yet");
            }
            document = await response.Content.ReadFromJsonAsync<SyncStatusDocument>(cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException or InvalidOperationException)
        {
            return HealthCheckResult.Unhealthy($"the sidecar's status endpoint did not answer: {e.Message}");
        }
        if (document is null)
        {
            return HealthCheckResult.Unhealthy("the sidecar's status endpoint answered nothing");
        }
        await ShowAsync(document);

        if (document.Revision is null)
        {
            return HealthCheckResult.Unhealthy($"no revision published yet{(document.LastError is null ? "" : $"; last error: {document.LastError}")}");
        }
        if (document.ConsecutiveFailures > 0)
        {
            return HealthCheckResult.Degraded($"{document.ConsecutiveFailures} failed sync(s); still serving {document.Revision}; last error: {document.LastError}");
        }
        // --verify-signatures=audit changes nothing: healthy (what waits for the sidecar starts), with the finding in the description and properties.
        return document.RevisionSignature is { Verdict: not "good" } signature
            ? HealthCheckResult.Healthy($"serving {document.Revision}, whose signature is {signature.Verdict} (audit): {signature.Reason} (signer key: {signature.Signer ?? "none"})")
            : HealthCheckResult.Healthy($"serving {document.Revision}");
    }

    // Only a change is published: every update wakes the health checks again.
    private async Task ShowAsync(SyncStatusDocument document)
    {
        if (document == shown)
        {
            return;
        }
        shown = document;
        await services.GetRequiredService<ResourceNotificationService>().PublishUpdateAsync(sync, snapshot => snapshot with
        {
            Properties = ResourceProperties.With(snapshot.Properties,
                new("gitsync.revision", document.Revision ?? ""),
                new("gitsync.last_outcome", document.LastOutcome ?? ""),
                new("gitsync.last_sync", document.LastSyncTime?.ToString("O") ?? ""),
                new("gitsync.consecutive_failures", document.ConsecutiveFailures),
                new("gitsync.last_error", document.LastError ?? ""),
                new("gitsync.signature.verdict", document.Signature?.Verdict ?? ""),
                new("gitsync.signature.signer", document.Signature?.Signer ?? ""),
                new("gitsync.signature.object", document.Signature?.Object ?? ""),
                new("gitsync.revision.signer", document.RevisionSignature is { } served ? $"{served.Signer ?? "none"} ({served.Verdict}{(served.Principal is null ? "" : $", {served.Principal}")})" : "")),
        });
    }

    private sealed record SyncStatusDocument(string? Revision, string? LastOutcome, string? LastError, DateTimeOffset? LastSyncTime, int ConsecutiveFailures,
        SignatureDocument? Signature = null, SignatureDocument? RevisionSignature = null);

    // The sidecar's verdicts (--verify-signatures): the last one checked, and the one of the revision it serves.
    private sealed record SignatureDocument(string Verdict, string Object, string? Signer, string? Principal, string Reason);
}

internal static class ResourceProperties
{
    /// <summary>The properties with each update replacing the property of its name.</summary>
    public static ImmutableArray<ResourcePropertySnapshot> With(ImmutableArray<ResourcePropertySnapshot> properties, params ResourcePropertySnapshot[] updates)
    {
        var names = updates.Select(u => u.Name).ToHashSet();
        return [.. properties.Where(p => !names.Contains(p.Name)), .. updates];
    }
}
