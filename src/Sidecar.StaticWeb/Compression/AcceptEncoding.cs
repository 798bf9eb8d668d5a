using Microsoft.Extensions.Primitives;

namespace Sidecar.StaticWeb.Compression;

/// <summary>The content codings this server offers, and which of them a request's <c>Accept-Encoding</c> accepts.</summary>
[Flags]
public enum ContentCoding
{
    None = 0,
    Brotli = 1,
    Gzip = 2,
}

public static class AcceptEncoding
{
    /// <summary>The codings the header accepts with a non-zero quality; <c>*</c> accepts both unless named with q=0.</summary>
    public static ContentCoding Parse(StringValues header)
    {
        ContentCoding accepted = ContentCoding.None, refused = ContentCoding.None;
        var any = false;
        foreach (var value in header)
        {
            var rest = value.AsSpan();
            while (!rest.IsEmpty)
            {
                var comma = rest.IndexOf(',');
                var item = (comma < 0 ? rest : rest[..comma]).Trim();
                rest = comma < 0 ? default : rest[(comma + 1)..];

                var semicolon = item.IndexOf(';');
                var name = (semicolon < 0 ? item : item[..semicolon]).Trim();
                var zero = semicolon >= 0 && IsZeroQuality(item[(semicolon + 1)..]);
                var coding = name.Equals("br", StringComparison.OrdinalIgnoreCase) ? ContentCoding.Brotli
                    : name.Equals("gzip", StringComparison.OrdinalIgnoreCase) ? ContentCoding.Gzip
                    : ContentCoding.None;
                if (coding != ContentCoding.None)
                {
                    if (zero) refused |= coding; else accepted |= coding;
                }
                else if (name is "*" && !zero)
                {
                    any = true;
                }
            }
        }
        if (any)
        {
            accepted |= (ContentCoding.Brotli | ContentCoding.Gzip) & ~refused;
        }
        return accepted & ~refused;
    }

    private static bool IsZeroQuality(ReadOnlySpan<char> parameters)
    {
        var p = parameters.Trim();
        if (!p.StartsWith("q=", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        var q = p[2..].Trim();
        foreach (var c in q)
        {
            if (c is not ('0' or '.'))
            {
                return false;
            }
        }
        return true;
    }
}
