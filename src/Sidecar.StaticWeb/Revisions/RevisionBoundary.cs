namespace Sidecar.StaticWeb.Revisions;

/// <summary>
/// Where a path really leads, symlinks followed: only inside the resolved revision, and never into
/// a hidden entry of it, may it be served. A symlink that leads elsewhere is not followed.
/// </summary>
public static class RevisionBoundary
{
    public static bool Contains(ResolvedRoot root, string path, bool allowRoot = false)
    {
        var real = ContentRoot.RealPath(path);
        if (real is null)
        {
            return false;
        }
        if (string.Equals(real, root.Directory, StringComparison.Ordinal))
        {
            return allowRoot;
        }
        return real.Length > root.Directory.Length
            && real.StartsWith(root.Directory, StringComparison.Ordinal)
            && real[root.Directory.Length] == '/'
            && !real.AsSpan(root.Directory.Length).Contains("/.", StringComparison.Ordinal);
    }
}
