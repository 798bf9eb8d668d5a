namespace Sidecar.StaticWeb;

/// <summary>What a request path may name. Hidden entries (any segment starting with '.') are never served.</summary>
public static class RequestPathGuard
{
    public enum Verdict
    {
        Allowed,
        Hidden,
        Malformed,
    }

    /// <summary>Judges a decoded request path and returns its segments when allowed.</summary>
    public static Verdict Check(string path, out string[] segments)
    {
        segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        foreach (var segment in segments)
        {
            // Kestrel leaves %2F encoded; a backslash, NUL or encoded slash must not split a segment on disk.
            if (segment.Contains('\\') || segment.Contains('\0') || segment.Contains("%2F", StringComparison.OrdinalIgnoreCase))
            {
                return Verdict.Malformed;
            }
            if (segment.StartsWith('.'))
            {
                return Verdict.Hidden;
            }
        }
        return Verdict.Allowed;
    }
}
