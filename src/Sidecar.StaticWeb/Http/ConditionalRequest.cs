using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Sidecar.StaticWeb.Http;

/// <summary>What the request's preconditions say about sending the representation.</summary>
public enum Precondition
{
    Proceed,
    NotModified,
    Failed,
}

/// <summary>
/// Evaluates <c>If-Match</c>, <c>If-Unmodified-Since</c>, <c>If-None-Match</c>,
/// <c>If-Modified-Since</c> (in RFC 9110 §13.2.2 order) and <c>If-Range</c> against one
/// representation's strong ETag and Last-Modified.
/// </summary>
public static class ConditionalRequest
{
    public static Precondition Evaluate(IHeaderDictionary headers, string etag, DateTimeOffset lastModified)
    {
        var ifMatch = headers.IfMatch;
        if (ifMatch.Count > 0)
        {
            if (!AnyMatches(ifMatch, etag, strong: true))
            {
                return Precondition.Failed;
            }
        }
        else if (TryDate(headers.IfUnmodifiedSince, out var unmodifiedSince) && lastModified > unmodifiedSince)
        {
            return Precondition.Failed;
        }

        var ifNoneMatch = headers.IfNoneMatch;
        if (ifNoneMatch.Count > 0)
        {
            return AnyMatches(ifNoneMatch, etag, strong: false) ? Precondition.NotModified : Precondition.Proceed;
        }
        if (TryDate(headers.IfModifiedSince, out var modifiedSince) && lastModified <= modifiedSince)
        {
            return Precondition.NotModified;
        }
        return Precondition.Proceed;
    }

    /// <summary>Whether a <c>Range</c> may be honoured: no <c>If-Range</c>, or one that names this exact representation.</summary>
    public static bool RangeAllowed(IHeaderDictionary headers, string etag, DateTimeOffset lastModified)
    {
        var ifRange = headers.IfRange;
        if (ifRange.Count == 0)
        {
            return true;
        }
        var value = ifRange.ToString().Trim();
        if (value.StartsWith('"') || value.StartsWith("W/", StringComparison.Ordinal))
        {
            // If-Range needs a strong match; a weak tag never matches.
            return string.Equals(value, etag, StringComparison.Ordinal);
        }
        return HeaderUtilities.TryParseDate(value, out var date) && date == lastModified;
    }

    private static bool AnyMatches(StringValues values, string etag, bool strong)
    {
        foreach (var value in values)
        {
            var rest = value.AsSpan();
            while (!rest.IsEmpty)
            {
                var comma = rest.IndexOf(',');
                var item = (comma < 0 ? rest : rest[..comma]).Trim();
                rest = comma < 0 ? default : rest[(comma + 1)..];
                if (item is "*")
                {
                    return true;
                }
                if (item.StartsWith("W/", StringComparison.Ordinal))
                {
                    if (strong)
                    {
                        continue;
                    }
                    item = item[2..];
                }
                if (item.SequenceEqual(etag))
                {
                    return true;
                }
            }
        }
        return false;
    }

    private static bool TryDate(StringValues value, out DateTimeOffset date)
    {
        date = default;
        return value.Count == 1 && HeaderUtilities.TryParseDate(value.ToString(), out date);
    }
}
