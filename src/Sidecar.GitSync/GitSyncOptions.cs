namespace Sidecar.GitSync;

/// <summary>The settings of one git-sync process, named as kubernetes/git-sync v4 names its flags.</summary>
public sealed class GitSyncOptions
{
    /// <summary>The git repository to sync (<c>--repo</c>).</summary>
    public string Repo { get; set; } = "";

    /// <summary>The folder that holds <c>.git</c>, <c>.worktrees</c> and the link (<c>--root</c>).</summary>
    public string Root { get; set; } = "";

    /// <summary>The link to publish, relative to <see cref="Root"/> unless absolute (<c>--link</c>); empty means the last part of the repo URL.</summary>
    public string Link { get; set; } = "";

    /// <summary>The branch, tag, commit or <c>HEAD</c> to sync (<c>--ref</c>).</summary>
    public string Ref { get; set; } = "HEAD";

    /// <summary>How long to wait between syncs (<c>--period</c>).</summary>
    public TimeSpan Period { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How many commits of history to fetch; 0 fetches all of it (<c>--depth</c>).</summary>
    public int Depth { get; set; } = 1;

    /// <summary>Exit after one sync: 0 when it succeeded, 1 when it failed (<c>--one-time</c>).</summary>
    public bool OneTime { get; set; }

    /// <summary>Where to serve the readiness endpoint, e.g. <c>127.0.0.1:8080</c> or <c>:8080</c> (<c>--http-bind</c>); empty serves nothing.</summary>
    public string HttpBind { get; set; } = "";

    /// <summary>The absolute path of the link, resolved as git-sync does: a relative link lives under the root.</summary>
    public string LinkPath => Path.GetFullPath(Path.IsPathRooted(Link) ? Link : Path.Combine(Root, Link));

    /// <summary>git-sync's default link name: the last part of the repo URL without <c>.git</c>.</summary>
    public static string DefaultLinkFor(string repo)
    {
        var trimmed = repo.TrimEnd('/');
        var name = trimmed[(trimmed.LastIndexOfAny(['/', ':', '\\']) + 1)..];
        return name.EndsWith(".git", StringComparison.Ordinal) ? name[..^4] : name;
    }
}
