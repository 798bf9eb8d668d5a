namespace Aspire.Hosting;

/// <summary>
/// The folder the sidecar and the main server share: <see cref="Root"/> holds the sidecar's
/// <c>.git</c> and <c>.worktrees</c>, and <see cref="LinkPath"/> is the link the main server serves.
/// Project and executable resources run on this machine, so this is a plain absolute path.
/// </summary>
public sealed record SharedContentFolder(string Root, string Link = "current")
{
    public string LinkPath => Path.Combine(Root, Link);
}
