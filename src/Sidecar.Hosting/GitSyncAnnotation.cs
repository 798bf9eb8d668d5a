using Aspire.Hosting.ApplicationModel;

namespace Aspire.Hosting;

/// <summary>Marks a resource as a git-sync sidecar and records what deployments need to know of it.</summary>
public sealed class GitSyncAnnotation(IResourceBuilder<SharedContentResource> content, ParameterResource webhookSecret) : IResourceAnnotation
{
    public IResourceBuilder<SharedContentResource> Content { get; } = content;

    /// <summary>The secret that <c>POST /sync</c> requires (sent as <c>X-Gitlab-Token</c> by the "Sync now" command).</summary>
    public ParameterResource WebhookSecret { get; } = webhookSecret;
}

/// <summary>Marks a main resource as served by a git-sync sidecar.</summary>
public sealed class GitSyncSidecarAnnotation(IResource sync, string rootVariable) : IResourceAnnotation
{
    public IResource Sync { get; } = sync;

    /// <summary>The environment variable that tells the main server which folder to serve.</summary>
    public string RootVariable { get; } = rootVariable;
}
