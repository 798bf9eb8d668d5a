namespace Sidecar.StaticWeb.Http;

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

    /// <summary>Judges a request path as Kestrel decoded it, without allocating.</summary>
    public static Verdict Check(string path)
    {
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
        // (Looked for only when there is a '%' at all: most paths have none, and this runs on every request.)
        if (path.Contains('%') && (path.Contains("%2F", StringComparison.OrdinalIgnoreCase) || path.Contains("%5C", StringComparison.OrdinalIgnoreCase)))
        {
            return Verdict.Malformed;
        }
        var rest = path.AsSpan(1);
        while (!rest.IsEmpty)
        {
            var slash = rest.IndexOf('/');
            var segment = slash < 0 ? rest : rest[..slash];
            rest = slash < 0 ? default : rest[(slash + 1)..];
            if (segment.IsEmpty)
            {
                continue;
            }
            if (segment[0] == '.')
            {
                return Verdict.Hidden;
            }
            // A Windows drive ("C:") names nothing on the site.
            if (segment.Length == 2 && segment[1] == ':' && char.IsAsciiLetter(segment[0]))
            {
                return Verdict.Malformed;
            }
        }
        return Verdict.Allowed;
    }

    /// <summary>The segments of a path that <see cref="Check"/> allowed.</summary>
    public static string[] Segments(string path) => path.Split('/', StringSplitOptions.RemoveEmptyEntries);
}
