using Aspire.Hosting.ApplicationModel;

namespace Aspire.Hosting;

/// <summary>Marks a main resource (any project or executable) as served by a git-sync sidecar.</summary>
public sealed class GitSyncSidecarAnnotation(GitSyncResource sync, string rootVariable) : IResourceAnnotation
{
    public GitSyncResource Sync { get; } = sync;

    /// <summary>The environment variable that tells the main server which folder to serve.</summary>
    public string RootVariable { get; } = rootVariable;
}
