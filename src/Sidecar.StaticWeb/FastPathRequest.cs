using System.Buffers;
using System.Collections.Frozen;
using System.Text;

namespace Sidecar.StaticWeb;

/// <summary>
/// The one shape of request the fast path answers: <c>GET</c> or <c>HEAD</c>, HTTP/1.1, a target of
/// plain path characters (no query, no escapes), one <c>Host</c>, at most one <c>Accept-Encoding</c>,
/// no body, and otherwise only headers that cannot change a static file's response (<c>User-Agent</c>,
/// <c>Accept</c>, <c>Cookie</c>, ...) or carry the caller's trace context (<c>traceparent</c>,
/// <c>tracestate</c>). Anything else, including anything malformed, is not this shape and goes to
/// Kestrel's HTTP/1.1 server, which judges it in full: the fast path never rejects a request.
/// </summary>
public readonly ref struct FastPathRequest
{
    /// <summary>A request head longer than this is left to Kestrel.</summary>
    public const int MaxHeadBytes = 8 * 1024;

    /// <summary>A target longer than this is left to Kestrel.</summary>
    public const int MaxTargetBytes = 1024;

    /// <summary>An <c>Accept-Encoding</c> longer than this is left to Kestrel.</summary>
    public const int MaxAcceptEncodingBytes = 256;

    private static readonly SearchValues<byte> TargetBytes =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/"u8);

    // RFC 9110 tchar.
    private static readonly SearchValues<byte> TokenBytes =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~"u8);

    // Visible ASCII, space and tab: no obs-text, no controls (so no bare CR or LF inside a line).
    private static readonly SearchValues<byte> ValueBytes = SearchValues.Create(ValueByteSet());

    private static readonly SearchValues<byte> VisibleBytes = SearchValues.Create(ValueByteSet()[2..]);

    private static readonly SearchValues<byte> HostBytes =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._:[]"u8);

    /// <summary>Request headers that never change the response of a static file, besides Host, Accept-Encoding and Connection.</summary>
    public static readonly FrozenSet<string> HarmlessHeaders = new[]
    {
        "User-Agent", "Accept", "Accept-Language", "Referer", "Cookie", "Cache-Control", "Pragma", "DNT",
        "Upgrade-Insecure-Requests", "Priority", "Sec-GPC", "Sec-Fetch-Site", "Sec-Fetch-Mode", "Sec-Fetch-Dest",
        "Sec-Fetch-User", "Sec-CH-UA", "Sec-CH-UA-Mobile", "Sec-CH-UA-Platform", "X-Forwarded-For",
        "X-Forwarded-Proto", "X-Forwarded-Host", "X-Real-IP", "Forwarded", "Via",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    private static readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> HarmlessLookup =
        HarmlessHeaders.GetAlternateLookup<ReadOnlySpan<char>>();

    private FastPathRequest(int length, bool isHead, ReadOnlySpan<byte> target, bool hasAcceptEncoding, ReadOnlySpan<byte> acceptEncoding,
        ReadOnlySpan<byte> traceParent, ReadOnlySpan<byte> traceState)
    {
        Length = length;
        IsHead = isHead;
        Target = target;
        HasAcceptEncoding = hasAcceptEncoding;
        AcceptEncoding = acceptEncoding;
        TraceParent = traceParent;
        TraceState = traceState;
    }

    /// <summary>The bytes of the request head, blank line included.</summary>
    public int Length { get; }

    public bool IsHead { get; }

    public ReadOnlySpan<byte> Target { get; }

    public bool HasAcceptEncoding { get; }

    /// <summary>The header's value without surrounding whitespace, as Kestrel hands it to the application.</summary>
    public ReadOnlySpan<byte> AcceptEncoding { get; }

    /// <summary>The caller's <c>traceparent</c>, empty when it sent none.</summary>
    public ReadOnlySpan<byte> TraceParent { get; }

    /// <summary>The caller's <c>tracestate</c>, empty when it sent none.</summary>
    public ReadOnlySpan<byte> TraceState { get; }

    /// <summary>The characters of the key the fast path files this request's response under.</summary>
    public int KeyLength => Target.Length + (HasAcceptEncoding ? 1 + AcceptEncoding.Length : 0);

    /// <summary>The key: the target, then, if the request has one, a line feed and the Accept-Encoding value.</summary>
    public void WriteKey(Span<char> key)
    {
        Ascii.ToUtf16(Target, key, out var written);
        if (HasAcceptEncoding)
        {
            key[written] = '\n';
            Ascii.ToUtf16(AcceptEncoding, key[(written + 1)..], out _);
        }
    }

    /// <summary>The same key for a request the full pipeline served (see <see cref="FastPath.Offer"/>).</summary>
    public static string Key(string target, string? acceptEncoding) =>
        acceptEncoding is null ? target : target + "\n" + acceptEncoding;

    /// <summary>What <see cref="Parse"/> found at the start of the buffer.</summary>
    public enum Verdict
    {
        /// <summary>A whole request of the shape the fast path may answer (if it holds the response).</summary>
        Simple,

        /// <summary>
        /// A whole <c>GET</c> or <c>HEAD</c> without a body or anything that changes the connection, but with
        /// headers or a target the fast path does not answer (validators, ranges, a query, ...): Kestrel
        /// answers it alone, and the connection stays with the fast path.
        /// </summary>
        Forward,

        /// <summary>The head is not complete yet, and not yet too long.</summary>
        Incomplete,

        /// <summary>Anything else: Kestrel's to judge, with the rest of the connection.</summary>
        Other,
    }

    /// <summary>Reads one request head from the start of <paramref name="head"/>.</summary>
    public static Verdict Parse(ReadOnlySpan<byte> head, out FastPathRequest request)
    {
        request = default;
        var end = head.IndexOf("\r\n\r\n"u8);
        if (end < 0)
        {
            // Not even the start of a GET or HEAD line: no point waiting for the rest.
            return head.Length >= MaxHeadBytes || !CouldStartSimple(head) || HasBareLineFeed(head) ? Verdict.Other : Verdict.Incomplete;
        }
        var length = end + 4;
        if (length > MaxHeadBytes)
        {
            return Verdict.Other;
        }

        var lineEnd = head.IndexOf("\r\n"u8);
        var line = head[..lineEnd];
        bool isHead;
        if (line.StartsWith("GET "u8))
        {
            isHead = false;
            line = line[4..];
        }
        else if (line.StartsWith("HEAD "u8))
        {
            isHead = true;
            line = line[5..];
        }
        else
        {
            return Verdict.Other;
        }
        var space = line.IndexOf((byte)' ');
        if (space <= 0 || !line[(space + 1)..].SequenceEqual("HTTP/1.1"u8))
        {
            return Verdict.Other;
        }
        var target = line[..space];
        // Visible characters only; Kestrel judges the rest of a forwarded target.
        if (target[0] != '/' || target.ContainsAnyExcept(VisibleBytes))
        {
            return Verdict.Other;
        }
        var answerable = target.Length <= MaxTargetBytes && !target.ContainsAnyExcept(TargetBytes);

        var rest = head[(lineEnd + 2)..length];
        var hosts = 0;
        var hasAcceptEncoding = false;
        ReadOnlySpan<byte> acceptEncoding = default, traceParent = default, traceState = default;
        Span<char> name = stackalloc char[64];
        while (true)
        {
            var e = rest.IndexOf("\r\n"u8);
            if (e == 0)
            {
                break;
            }
            var field = rest[..e];
            rest = rest[(e + 2)..];
            var colon = field.IndexOf((byte)':');
            if (colon <= 0 || field[..colon].ContainsAnyExcept(TokenBytes))
            {
                return Verdict.Other;
            }
            var fieldName = field[..colon];
            var value = field[(colon + 1)..].Trim(" \t"u8);
            if (value.ContainsAnyExcept(ValueBytes))
            {
                return Verdict.Other;
            }
            // What frames a body or changes the connection is never forwarded alone.
            if (Ascii.EqualsIgnoreCase(fieldName, "Content-Length"u8) || Ascii.EqualsIgnoreCase(fieldName, "Transfer-Encoding"u8)
                || Ascii.EqualsIgnoreCase(fieldName, "Upgrade"u8) || Ascii.EqualsIgnoreCase(fieldName, "Expect"u8)
                || Ascii.EqualsIgnoreCase(fieldName, "TE"u8) || Ascii.EqualsIgnoreCase(fieldName, "Trailer"u8)
                || (Ascii.EqualsIgnoreCase(fieldName, "Connection"u8) && !Ascii.EqualsIgnoreCase(value, "keep-alive"u8)))
            {
                return Verdict.Other;
            }
            if (!answerable || Ascii.EqualsIgnoreCase(fieldName, "Connection"u8))
            {
                continue;
            }
            if (Ascii.EqualsIgnoreCase(fieldName, "Host"u8))
            {
                answerable = ++hosts == 1 && !value.IsEmpty && !value.ContainsAnyExcept(HostBytes);
            }
            else if (Ascii.EqualsIgnoreCase(fieldName, "Accept-Encoding"u8))
            {
                answerable = !hasAcceptEncoding && value.Length <= MaxAcceptEncodingBytes;
                hasAcceptEncoding = true;
                acceptEncoding = value;
            }
            else if (Ascii.EqualsIgnoreCase(fieldName, "traceparent"u8))
            {
                answerable = traceParent.IsEmpty && !value.IsEmpty;
                traceParent = value;
            }
            else if (Ascii.EqualsIgnoreCase(fieldName, "tracestate"u8))
            {
                answerable = traceState.IsEmpty && !value.IsEmpty;
                traceState = value;
            }
            else
            {
                answerable = fieldName.Length <= name.Length && Ascii.ToUtf16(fieldName, name, out var written) == OperationStatus.Done
                    && HarmlessLookup.Contains(name[..written]);
            }
        }
        request = new FastPathRequest(length, isHead, target, hasAcceptEncoding, acceptEncoding, traceParent, traceState);
        return answerable && hosts == 1 ? Verdict.Simple : Verdict.Forward;
    }

    // Whether these bytes could still become "GET /" or "HEAD /".
    private static bool CouldStartSimple(ReadOnlySpan<byte> head)
    {
        ReadOnlySpan<byte> get = "GET /"u8, headMethod = "HEAD /"u8;
        var n = head.Length;
        return get[..Math.Min(n, get.Length)].SequenceEqual(head[..Math.Min(n, get.Length)])
            || headMethod[..Math.Min(n, headMethod.Length)].SequenceEqual(head[..Math.Min(n, headMethod.Length)]);
    }

    // A line ended by LF alone never gets the CR LF CR LF the fast path waits for.
    private static bool HasBareLineFeed(ReadOnlySpan<byte> head)
    {
        var offset = 0;
        while (true)
        {
            var found = head[offset..].IndexOf((byte)'\n');
            if (found < 0)
            {
                return false;
            }
            var at = offset + found;
            if (at == 0 || head[at - 1] != '\r')
            {
                return true;
            }
            offset = at + 1;
        }
    }

    private static byte[] ValueByteSet()
    {
        var bytes = new List<byte> { (byte)'\t' };
        for (var b = 0x20; b <= 0x7E; b++)
        {
            bytes.Add((byte)b);
        }
        return [.. bytes];
    }
}
