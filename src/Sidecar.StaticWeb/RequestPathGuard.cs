namespace Sidecar.StaticWeb;

/// <summary>
/// What a request path may name. Hidden entries (any segment starting with '.', which covers
/// <c>.</c> and <c>..</c>) are never served; a path that could name something other than its
/// segments on disk is refused as malformed.
/// </summary>
public static class RequestPathGuard
{
    public enum Verdict
    {
        Allowed,
        Hidden,
        Malformed,
    }

    /// <summary>Judges a request path as Kestrel decoded it and returns its segments when allowed.</summary>
    public static Verdict Check(string path, out string[] segments)
    {
        segments = [];
        if (path.Length == 0 || path[0] != '/')
        {
            return Verdict.Malformed;
        }
        foreach (var c in path)
        {
            // Backslash (a Windows separator), NUL and other controls never belong in a site path;
            // U+FFFD is what invalid UTF-8 decodes to.
            if (c == '\\' || char.IsControl(c) || c == '\uFFFD')
            {
                return Verdict.Malformed;
            }
        }
        // Kestrel leaves %2F encoded, so an encoded slash cannot split a segment; refuse it rather than serve a literal name.
        if (path.Contains("%2F", StringComparison.OrdinalIgnoreCase) || path.Contains("%5C", StringComparison.OrdinalIgnoreCase))
        {
            return Verdict.Malformed;
        }
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        foreach (var segment in parts)
        {
            if (segment.StartsWith('.'))
            {
                return Verdict.Hidden;
            }
            // A Windows drive ("C:") names nothing on the site.
            if (segment.Length == 2 && segment[1] == ':' && char.IsAsciiLetter(segment[0]))
            {
                return Verdict.Malformed;
            }
        }
        segments = parts;
        return Verdict.Allowed;
    }
}
