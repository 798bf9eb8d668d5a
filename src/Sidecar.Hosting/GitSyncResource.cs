using Aspire.Hosting.ApplicationModel;

namespace Aspire.Hosting;

/// <summary>
/// The git-sync sidecar: the bundled Sidecar.GitSync project, run as any .NET project is, that syncs a repository
/// into <see cref="Content"/>. Its own type lets the sidecar-only settings (<c>WithRef</c>, <c>WithPeriod</c>,
/// <c>WithSignatureVerification</c>) accept it alone, and lets the publish steps find it in the model.
/// </summary>
public sealed class GitSyncResource(string name, SharedContentResource content, ParameterResource webhookSecret) : ProjectResource(name)
{
    /// <summary>The name of the sidecar's HTTP endpoint (git-sync's <c>--http-bind</c>): readiness, status, metrics, <c>POST /sync</c>.</summary>
    public const string StatusEndpointName = "status";

    /// <summary>The name of the "Sync now" command on the sidecar resource.</summary>
    public const string SyncNowCommandName = "sync-now";

    /// <summary>The folder the sidecar publishes into.</summary>
    public SharedContentResource Content { get; } = content;

    /// <summary>The secret that <c>POST /sync</c> requires (sent as <c>X-Gitlab-Token</c> by the "Sync now" command).</summary>
    public ParameterResource WebhookSecret { get; } = webhookSecret;

    /// <summary>The sidecar's status endpoint.</summary>
    public EndpointReference StatusEndpoint => field ??= new(this, StatusEndpointName);
}
