using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Microsoft.Win32.SafeHandles;

namespace Sidecar.StaticWeb;

/// <summary>
/// A response the fast path sends as it is: the status line and headers (all but Date), and the body,
/// from memory or (<paramref name="FilePath"/>) from the revision's file with send-file.
/// </summary>
public sealed record FastResponse(byte[] Head, byte[]? Body, string? FilePath = null, long FileLength = 0);

/// <summary>
/// Answers repeated requests for the served revision's files, before Kestrel's HTTP/1.1 layer, as a
/// connection middleware on Kestrel's socket transport: bodies from memory, or from disk with
/// <c>sendfile(2)</c>, written straight to the client's socket (<see cref="SocketOutput"/>).
/// </summary>
/// <remarks>
/// <para>
/// What it sends is a copy of what the full pipeline sent: when <see cref="StaticSiteHandler"/> answers a
/// plain <c>GET</c> with 200 from its cache, the response's status line and headers are kept
/// (<see cref="Offer"/>) in that revision's <see cref="RevisionCache"/>, under the target and the
/// <c>Accept-Encoding</c> value, and dropped with the revision. A later request of the fast path's
/// shape (<see cref="FastPathRequest"/>) resolves the root link, as every request does, and when the
/// link names the revision served and the cache holds its key, gets that head, a fresh Date and the body.
/// </para>
/// <para>
/// Other bodiless <c>GET</c> and <c>HEAD</c> requests (validators, ranges, queries, a key not kept, a
/// swap not yet seen) are answered by Kestrel's HTTP/1.1 layer one at a time, on an inner connection,
/// and the connection stays with the fast path (<see cref="FastPathConnection"/>). Anything else (a
/// body, an upgrade, a malformed head) goes to Kestrel with the rest of the connection. So Kestrel's
/// parsing, limits, timeouts and the whole ASP.NET Core pipeline apply to every request the fast path
/// does not answer. A connection that stays idle (<see cref="StaticWebOptions.FastPathIdleSeconds"/>)
/// is handed over too, so Kestrel's keep-alive timeout closes it.
/// </para>
/// </remarks>
public sealed partial class FastPath : IDisposable
{
    // Response headers that would make a kept copy wrong or belong to the connection, not the file.
    private static readonly HashSet<string> UnkeepableHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Transfer-Encoding", "Upgrade", "Set-Cookie", "Trailer", "Alt-Svc",
    };

    // About the most a kept head takes from a revision's budget (its headers, key and objects).
    private const int MaxKeptHeadBytes = 2048;

    private readonly ContentRoot contentRoot;
    private readonly RevisionTracker revisions;
    private readonly StaticWebTelemetry telemetry;
    private readonly ILogger<FastPath> logger;
    private readonly ConcurrentDictionary<FastPathConnection, byte> connections = new();
    private readonly Timer sweeper;
    private DateHeader date = DateHeader.Now();

    public FastPath(ContentRoot contentRoot, RevisionTracker revisions, StaticWebTelemetry telemetry,
        IOptions<StaticWebOptions> options, ILogger<FastPath> logger)
    {
        this.contentRoot = contentRoot;
        this.revisions = revisions;
        this.telemetry = telemetry;
        this.logger = logger;
        Enabled = options.Value.FastPath;
        var idle = TimeSpan.FromSeconds(options.Value.FastPathIdleSeconds);
        sweeper = new Timer(_ => Sweep(), null, Enabled ? idle : Timeout.InfiniteTimeSpan, idle);
    }

    public bool Enabled { get; }

    /// <summary>The connections the fast path holds now (not yet handed to Kestrel).</summary>
    public int ActiveConnections => connections.Count;

    /// <summary>The connection middleware: serves what it can, then hands the connection to <paramref name="next"/>.</summary>
    public ConnectionDelegate Bind(ConnectionDelegate next) => connection => ServeAsync(connection, next);

    private async Task ServeAsync(ConnectionContext context, ConnectionDelegate next)
    {
        var connection = new FastPathConnection(context, next);
        connections.TryAdd(connection, 0);
        var handOff = true;
        try
        {
            var lifetime = context.Features.Get<IConnectionLifetimeNotificationFeature>();
            using var closing = lifetime?.ConnectionClosedRequested.Register(static state => ((FastPathConnection)state!).Close(), connection);
            handOff = await ServeWhatItCanAsync(connection);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            // The client reset or the server aborted the connection (ConnectionResetException, ConnectionAbortedException).
            LogEnded(e.Message);
            handOff = false;
        }
        catch (Exception e)
        {
            LogFailed(e);
            handOff = false;
        }
        finally
        {
            connections.TryRemove(connection, out _);
        }
        try
        {
            if (handOff)
            {
                await connection.HandOffAsync();
            }
        }
        finally
        {
            await connection.EndAsync();
        }
    }

    // True when the connection goes on with Kestrel; false when it is over.
    private async Task<bool> ServeWhatItCanAsync(FastPathConnection connection)
    {
        var input = connection.Input;
        var output = connection.Output;
        while (true)
        {
            var result = await input.ReadAsync();
            var buffer = result.Buffer;
            if (result.IsCanceled)
            {
                input.AdvanceTo(buffer.Start);
                return !connection.Closing;
            }

            var written = false;
            var verdict = FastPathRequest.Verdict.Incomplete;
            while (!buffer.IsEmpty)
            {
                verdict = TryServe(ref buffer, output, out var forward);
                if (verdict == FastPathRequest.Verdict.Simple)
                {
                    written = true;
                    if (output is SocketOutput { HasTail: true })
                    {
                        // A large body or a file goes out now, before the next response is written.
                        if ((await output.FlushAsync()).IsCompleted)
                        {
                            input.AdvanceTo(buffer.Start, buffer.End);
                            return false;
                        }
                    }
                    continue;
                }
                if (verdict != FastPathRequest.Verdict.Forward)
                {
                    break;
                }
                // Kestrel answers this one, after what is written already and before what follows.
                var request = buffer.Slice(0, forward.Length);
                buffer = buffer.Slice(forward.Length);
                written = true;
                if (!await connection.ForwardAsync(request, forward.IsHead))
                {
                    input.AdvanceTo(buffer.End);
                    await output.FlushAsync();
                    return false;
                }
            }
            var toKestrel = verdict == FastPathRequest.Verdict.Other || (result.IsCompleted && !buffer.IsEmpty);
            if (toKestrel)
            {
                // Unread, so Kestrel's first read gets the request the fast path did not answer.
                input.AdvanceTo(buffer.Start);
            }
            else
            {
                input.AdvanceTo(buffer.Start, buffer.End);
            }
            if (written)
            {
                var flushing = output.FlushAsync();
                var flushed = flushing.IsCompletedSuccessfully ? flushing.Result : await flushing;
                if (flushed.IsCanceled)
                {
                    // Stuck behind a client that does not read: Kestrel's timeouts take over.
                    return !connection.Closing;
                }
                if (flushed.IsCompleted)
                {
                    return false;
                }
                connection.Active = true;
            }
            if (toKestrel)
            {
                return true;
            }
            if (result.IsCompleted)
            {
                return false;
            }
        }
    }

    private FastPathRequest.Verdict TryServe(ref ReadOnlySequence<byte> buffer, PipeWriter output, out (int Length, bool IsHead) forward)
    {
        if (buffer.IsSingleSegment || buffer.FirstSpan.IndexOf("\r\n\r\n"u8) >= 0)
        {
            return TryServe(buffer.FirstSpan, ref buffer, output, out forward);
        }
        // A head split across buffer segments: gathered, within the head limit.
        var length = (int)Math.Min(buffer.Length, FastPathRequest.MaxHeadBytes);
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            buffer.Slice(0, length).CopyTo(rented);
            return TryServe(rented.AsSpan(0, length), ref buffer, output, out forward);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    // Simple: answered (the buffer moves past it). Forward: a whole bodiless request for Kestrel, of
    // forward.Length bytes (the buffer does not move). Incomplete or Other: nothing done.
    private FastPathRequest.Verdict TryServe(ReadOnlySpan<byte> bytes, ref ReadOnlySequence<byte> buffer, PipeWriter output, out (int Length, bool IsHead) forward)
    {
        var started = Stopwatch.GetTimestamp();
        var verdict = FastPathRequest.Parse(bytes, out var request);
        forward = (request.Length, request.IsHead);
        if (verdict != FastPathRequest.Verdict.Simple)
        {
            return verdict;
        }
        // Resolved once, at the request's start, as the full pipeline does.
        var root = contentRoot.Resolve();
        var cache = revisions.Current;
        if (root is null || !string.Equals(root.Revision, cache.Revision, StringComparison.Ordinal))
        {
            return FastPathRequest.Verdict.Forward;
        }
        var parent = default(ActivityContext);
        if (!request.TraceParent.IsEmpty && !ActivityContext.TryParse(Encoding.ASCII.GetString(request.TraceParent),
                request.TraceState.IsEmpty ? null : Encoding.ASCII.GetString(request.TraceState), isRemote: true, out parent))
        {
            return FastPathRequest.Verdict.Forward;
        }
        Span<char> key = stackalloc char[request.KeyLength];
        request.WriteKey(key);
        var direct = output as SocketOutput;
        if (!cache.TryGetFast(key, out var response))
        {
            // A file too large for memory, when the fast path cannot send it itself (no socket, or no
            // room left to keep its head): the connection goes to Kestrel, which sends it from disk every
            // time, rather than each body taking one more copy through the inner connection.
            return cache.TryGet(Encoding.ASCII.GetString(request.Target), out var entry) && entry.Identity.Body is null
                && (direct is null || cache.UsedBytes + MaxKeptHeadBytes > cache.CapacityBytes)
                ? FastPathRequest.Verdict.Other
                : FastPathRequest.Verdict.Forward;
        }
        SafeFileHandle? file = null;
        if (response.FilePath is { } path)
        {
            if (direct is null)
            {
                return FastPathRequest.Verdict.Other;
            }
            if (!request.IsHead && (file = OpenKept(path, response.FileLength)) is null)
            {
                // Gone (a retired revision removed) or not what was kept: Kestrel answers from the disk as it is.
                return FastPathRequest.Verdict.Forward;
            }
        }

        using var activity = StartActivity(request, parent, root.Revision);
        output.Write(response.Head);
        output.Write(CurrentDate());
        if (file is not null)
        {
            direct!.WriteFile(file, (int)response.FileLength);
        }
        else if (!request.IsHead && response.Body is { } body)
        {
            if (direct is not null && body.Length >= SocketOutput.SharedBodyBytes)
            {
                direct.WriteTail(body);
            }
            else
            {
                output.Write(body);
            }
        }
        telemetry.RecordFastResponse(request.IsHead, started);
        buffer = buffer.Slice(request.Length);
        return FastPathRequest.Verdict.Simple;
    }

    // The kept file, opened for this response; null when it cannot be, or is no longer the length kept.
    private static SafeFileHandle? OpenKept(string path, long length)
    {
        try
        {
            var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
            if (RandomAccess.GetLength(handle) == length)
            {
                return handle;
            }
            handle.Dispose();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return null;
    }

    // A server span as ASP.NET Core's, child of the caller's trace context if it sent one, subject to
    // the same sampler; null (and cheap) when not sampled.
    private Activity? StartActivity(in FastPathRequest request, ActivityContext parent, string revision)
    {
        var method = request.IsHead ? "HEAD" : "GET";
        var activity = telemetry.ActivitySource.StartActivity(method, ActivityKind.Server, parent);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("http.request.method", method);
            activity.SetTag("url.path", Encoding.ASCII.GetString(request.Target));
            activity.SetTag("url.scheme", "http");
            activity.SetTag("network.protocol.version", "1.1");
            activity.SetTag("http.response.status_code", 200);
            activity.SetTag(StaticWebTelemetry.RevisionTag, revision);
            activity.SetTag(StaticWebTelemetry.FastPathTag, true);
        }
        return activity;
    }

    private byte[] CurrentDate()
    {
        var current = date;
        var now = DateTime.UtcNow;
        if (now.Ticks / TimeSpan.TicksPerSecond != current.Second)
        {
            date = current = DateHeader.At(now);
        }
        return current.Bytes;
    }

    /// <summary>
    /// Keeps the response the full pipeline is about to send, when it is the plain 200 of a request
    /// of the fast path's shape: a GET of a plain target with no query, no validators or range, at most one
    /// <c>Accept-Encoding</c>, answered for the revision <paramref name="cache"/> holds, from memory or
    /// from one file of the revision's folder.
    /// Called once the response's headers are all set, before its body is written.
    /// </summary>
    public void Offer(HttpContext context, RevisionCache cache, Representation representation)
    {
        if (!Enabled || cache.IsRetired || (representation.Body is null && (representation.PhysicalPath is null || representation.Length > int.MaxValue)))
        {
            return;
        }
        var request = context.Request;
        var headers = request.Headers;
        if (!HttpMethods.IsGet(request.Method) || !HttpProtocol.IsHttp11(request.Protocol) || request.QueryString.HasValue
            || headers.Range.Count > 0 || headers.IfMatch.Count > 0 || headers.IfNoneMatch.Count > 0 || headers.IfModifiedSince.Count > 0
            || headers.IfUnmodifiedSince.Count > 0 || headers.IfRange.Count > 0 || headers.AcceptEncoding.Count > 1
            || context.Response.StatusCode != StatusCodes.Status200OK || context.Response.HasStarted)
        {
            return;
        }
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (target is null || !string.Equals(target, request.Path.Value, StringComparison.Ordinal)
            || target.Length > FastPathRequest.MaxTargetBytes)
        {
            return;
        }
        var acceptEncoding = headers.AcceptEncoding.Count == 1 ? headers.AcceptEncoding[0] : null;
        if (acceptEncoding?.Length > FastPathRequest.MaxAcceptEncodingBytes)
        {
            return;
        }
        var key = FastPathRequest.Key(target, acceptEncoding);
        if (cache.HasFast(key) || BuildHead(context.Response) is not { } head)
        {
            return;
        }
        cache.AddFast(key, representation.Body is { } body
            ? new FastResponse(head, body)
            : new FastResponse(head, null, representation.PhysicalPath, representation.Length));
    }

    private static byte[]? BuildHead(HttpResponse response)
    {
        var text = new StringBuilder(512).Append("HTTP/1.1 200 OK\r\n");
        foreach (var (name, values) in response.Headers)
        {
            if (string.Equals(name, "Date", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            if (UnkeepableHeaders.Contains(name))
            {
                return null;
            }
            foreach (var value in values)
            {
                if (value is null || !Ascii.IsValid(value) || value.AsSpan().ContainsAny('\r', '\n'))
                {
                    return null;
                }
                text.Append(name).Append(": ").Append(value).Append("\r\n");
            }
        }
        return Encoding.ASCII.GetBytes(text.ToString());
    }

    // Hands every connection idle for a whole period to Kestrel, and disconnects one whose client stopped reading a response.
    private void Sweep()
    {
        foreach (var connection in connections.Keys)
        {
            if (connection.Active)
            {
                connection.Active = false;
            }
            else
            {
                connection.OnIdle();
            }
        }
    }

    public void Dispose() => sweeper.Dispose();

    [LoggerMessage(Level = LogLevel.Debug, Message = "A connection the fast path held ended: {Reason}")]
    private partial void LogEnded(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The fast path failed on a connection, which is closed")]
    private partial void LogFailed(Exception exception);

    private sealed record DateHeader(long Second, byte[] Bytes)
    {
        public static DateHeader Now() => At(DateTime.UtcNow);

        public static DateHeader At(DateTime now) =>
            new(now.Ticks / TimeSpan.TicksPerSecond, Encoding.ASCII.GetBytes($"Date: {now:R}\r\n\r\n"));
    }
}
