using Microsoft.Extensions.Primitives;

namespace Sidecar.StaticWeb.Http;

/// <summary>What to do with a request's <c>Range</c> header.</summary>
public enum RangeOutcome
{
    /// <summary>Absent, not bytes, malformed or too many ranges: send the whole representation (200).</summary>
    Ignore,
    /// <summary>No range overlaps the representation: 416.</summary>
    Unsatisfiable,
    /// <summary>One or more ranges to send: 206.</summary>
    Satisfiable,
}

/// <summary>One inclusive byte range, as in <c>Content-Range: bytes Start-End/Length</c>.</summary>
public readonly record struct ByteRange(long Start, long End)
{
    public long Length => End - Start + 1;
}

/// <summary>Parses <c>Range: bytes=...</c> (RFC 9110 §14) against a representation's length.</summary>
public static class ByteRanges
{
    /// <summary>More ranges than this are ignored rather than served, to bound the work one request can ask for.</summary>
    public const int MaxRanges = 32;

    public static RangeOutcome Parse(StringValues header, long length, out List<ByteRange> ranges)
    {
        ranges = [];
        if (header.Count != 1)
        {
            return RangeOutcome.Ignore;
        }
        var value = header.ToString().AsSpan().Trim();
        if (!value.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase))
        {
            return RangeOutcome.Ignore;
        }
        var rest = value[6..];
        var count = 0;
        while (!rest.IsEmpty)
        {
            var comma = rest.IndexOf(',');
            var item = (comma < 0 ? rest : rest[..comma]).Trim();
            rest = comma < 0 ? default : rest[(comma + 1)..];
            if (item.IsEmpty)
            {
                continue;
            }
            if (++count > MaxRanges)
            {
                return RangeOutcome.Ignore;
            }
            var dash = item.IndexOf('-');
            if (dash < 0)
            {
                return RangeOutcome.Ignore;
            }
            var first = item[..dash].Trim();
            var last = item[(dash + 1)..].Trim();
            if (first.IsEmpty)
            {
                // bytes=-N: the last N bytes.
                if (!TryNumber(last, out var suffix))
                {
                    return RangeOutcome.Ignore;
                }
                if (suffix > 0 && length > 0)
                {
                    ranges.Add(new ByteRange(Math.Max(0, length - suffix), length - 1));
                }
                continue;
            }
            if (!TryNumber(first, out var start))
            {
                return RangeOutcome.Ignore;
            }
            long end;
            if (last.IsEmpty)
            {
                end = length - 1;
            }
            else if (!TryNumber(last, out end) || end < start)
            {
                return RangeOutcome.Ignore;
            }
            if (start < length)
            {
                ranges.Add(new ByteRange(start, Math.Min(end, length - 1)));
            }
        }
        if (count == 0)
        {
            return RangeOutcome.Ignore;
        }
        if (ranges.Count == 0)
        {
            return RangeOutcome.Unsatisfiable;
        }
        Coalesce(ranges);
        return RangeOutcome.Satisfiable;
    }

    // Overlapping or adjacent ranges are merged (RFC 9110 allows it), so no byte is sent twice.
    private static void Coalesce(List<ByteRange> ranges)
    {
        if (ranges.Count < 2)
        {
            return;
        }
        var sorted = ranges.OrderBy(r => r.Start).ToList();
        var overlaps = false;
        for (var i = 1; i < sorted.Count; i++)
        {
            overlaps |= sorted[i].Start <= sorted[i - 1].End + 1;
        }
        if (!overlaps)
        {
            return;
        }
        ranges.Clear();
        var current = sorted[0];
        foreach (var next in sorted.Skip(1))
        {
            if (next.Start <= current.End + 1)
            {
                current = current with { End = Math.Max(current.End, next.End) };
            }
            else
            {
                ranges.Add(current);
                current = next;
            }
        }
        ranges.Add(current);
    }

    private static bool TryNumber(ReadOnlySpan<char> text, out long number)
    {
        number = 0;
        if (text.IsEmpty || text.Length > 18)
        {
            return false;
        }
        foreach (var c in text)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
            number = number * 10 + (c - '0');
        }
        return true;
    }
}
