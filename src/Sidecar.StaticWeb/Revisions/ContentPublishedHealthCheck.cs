using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Sidecar.StaticWeb.Revisions;

/// <summary>Unhealthy until the root resolves to a folder: the server has nothing to serve before the first publish.</summary>
public sealed class ContentPublishedHealthCheck(ContentRoot contentRoot) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(contentRoot.Resolve() is { } root && Directory.Exists(root.Directory)
            ? HealthCheckResult.Healthy($"serving revision {root.Revision}")
            : HealthCheckResult.Unhealthy($"'{contentRoot.ConfiguredRoot}' does not lead to a folder: nothing is published"));
}
