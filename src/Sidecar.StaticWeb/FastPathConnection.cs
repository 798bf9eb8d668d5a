using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace Sidecar.StaticWeb;

/// <summary>
/// One client connection while the fast path holds it, and Kestrel's HTTP/1.1 server behind it for
/// the requests the fast path does not answer.
/// </summary>
/// <remarks>
/// A bodiless <c>GET</c> or <c>HEAD</c> the fast path cannot answer is passed, alone, to Kestrel's
/// HTTP/1.1 layer running on an inner connection (in-memory pipes, the client connection's features
/// and endpoints), and Kestrel's whole response is relayed to the client before the next request is
/// looked at, so responses keep the order of the requests. Kestrel answers such a request exactly
/// as it would on the client connection itself; the client connection stays with the fast path.
/// Anything else (a request with a body, an upgrade, a malformed head) ends the fast path's part:
/// without an inner connection the client connection itself is handed to Kestrel; with one, every
/// further byte is pumped through it both ways.
/// </remarks>
internal sealed class FastPathConnection(ConnectionContext outer, ConnectionDelegate kestrel)
{
    // A response head larger than this from Kestrel cannot be relayed (Kestrel's own limit is far below).
    private const int MaxResponseHeadBytes = 64 * 1024;

    private static readonly byte[] CrLf = "\r\n"u8.ToArray();
    private static readonly byte[] EndOfHead = "\r\n\r\n"u8.ToArray();

    private InnerConnection? inner;
    private HeartbeatRelay? heartbeat;

    public PipeReader Input { get; } = outer.Transport.Input;

    /// <summary>
    /// Where the fast path writes: straight to the client's socket when the transport exposes it, on
    /// Linux (<see cref="SocketOutput"/>), else the transport's output pipe.
    /// </summary>
    public PipeWriter Output { get; } = SocketOutput.IsSupported && outer.Features.Get<IConnectionSocketFeature>()?.Socket is { } socket
        ? new SocketOutput(socket, () => outer.Abort(new ConnectionAbortedException("A response of the fast path was cut short: the client stopped reading, or the server is stopping.")))
        : outer.Transport.Output;

    /// <summary>Set on every answered batch, cleared by each sweep.</summary>
    public volatile bool Active = true;

    public volatile bool Closing;

    public void Close()
    {
        Closing = true;
        Input.CancelPendingRead();
        Output.CancelPendingFlush();
    }

    /// <summary>
    /// Called by the idle sweep when the connection was idle for a whole period: a pending read ends, so
    /// the connection goes to Kestrel, and a response stuck behind a client that stopped reading is given
    /// up (with direct writes, only when it made no progress at all; a slow reader keeps its response).
    /// </summary>
    public void OnIdle()
    {
        Input.CancelPendingRead();
        if (Output is SocketOutput direct)
        {
            direct.AbortIfStalled();
        }
        else
        {
            Output.CancelPendingFlush();
        }
    }

    /// <summary>
    /// Has Kestrel answer one bodiless request, and relays its response. False when the connection is
    /// over after it (Kestrel closed it, or the client went away).
    /// </summary>
    public async Task<bool> ForwardAsync(ReadOnlySequence<byte> request, bool isHead)
    {
        if (inner is null || inner.Running.IsCompleted)
        {
            // A new inner connection when Kestrel ended the last one (its keep-alive timeout runs while
            // the fast path answers everything itself).
            if (inner is not null)
            {
                await inner.EndAsync();
            }
            heartbeat ??= new HeartbeatRelay(outer.Features.Get<IConnectionHeartbeatFeature>());
            inner = new InnerConnection(outer, heartbeat);
            inner.Start(kestrel);
        }
        foreach (var segment in request)
        {
            inner.Requests.Write(segment.Span);
        }
        await inner.Requests.FlushAsync();
        return await RelayResponseAsync(inner.Responses, isHead);
    }

    /// <summary>After the fast path's part: hands the connection to Kestrel, or pumps it through the inner connection.</summary>
    public async Task HandOffAsync()
    {
        if (inner is null || inner.Running.IsCompleted)
        {
            if (inner is not null)
            {
                await inner.EndAsync();
                inner = null;
            }
            await kestrel(outer);
            return;
        }
        var toKestrel = CopyAsync(Input, inner.Requests, isInput: true);
        var fromKestrel = CopyAsync(inner.Responses, Output, isInput: false);
        if (await Task.WhenAny(toKestrel, fromKestrel) == fromKestrel)
        {
            // Kestrel ended the connection: nothing more is read from the client.
            Input.CancelPendingRead();
        }
        else
        {
            inner.Requests.Complete();
        }
        await Task.WhenAll(toKestrel, fromKestrel);
    }

    /// <summary>Ends the inner connection, if any, and waits for Kestrel to finish with it; then the fast path's output is done.</summary>
    public async Task EndAsync()
    {
        if (inner is not null)
        {
            await inner.EndAsync();
        }
        if (Output is SocketOutput direct)
        {
            direct.Complete();
        }
    }

    private static async Task CopyAsync(PipeReader from, PipeWriter to, bool isInput)
    {
        try
        {
            while (true)
            {
                var result = await from.ReadAsync();
                var buffer = result.Buffer;
                foreach (var segment in buffer)
                {
                    to.Write(segment.Span);
                }
                from.AdvanceTo(buffer.End);
                if (result.IsCanceled || result.IsCompleted)
                {
                    break;
                }
                var flushed = await to.FlushAsync();
                if (flushed.IsCompleted)
                {
                    break;
                }
            }
            await to.FlushAsync();
        }
        catch (Exception) when (isInput)
        {
            // The client connection was aborted; Kestrel sees its input end.
        }
    }

    // Relays one response: its head, then its body as its framing says (none, Content-Length, chunked,
    // or up to the end of the connection). True when the connection stays open after it.
    private async Task<bool> RelayResponseAsync(PipeReader from, bool isHead)
    {
        if (await RelayThroughAsync(from, EndOfHead) is not { } head
            || !TryParseHead(head, out var status, out var contentLength, out var chunked, out var close))
        {
            await Output.FlushAsync();
            return false;
        }

        if (isHead || status is 204 or 304 || status < 200)
        {
            return !close;
        }
        if (chunked)
        {
            return await RelayChunksAsync(from) && !close;
        }
        if (contentLength is { } length)
        {
            return await RelayBytesAsync(from, length) && !close;
        }
        // Neither: the body ends with the connection.
        await RelayBytesAsync(from, long.MaxValue);
        return false;
    }

    private static bool TryParseHead(string head, out int status, out long? contentLength, out bool chunked, out bool close)
    {
        contentLength = null;
        chunked = close = false;
        var lines = head.Split("\r\n");
        if (lines[0].Length < 12 || !lines[0].StartsWith("HTTP/1.1 ", StringComparison.Ordinal) || !int.TryParse(lines[0].AsSpan(9, 3), out status))
        {
            status = 0;
            return false;
        }
        foreach (var line in lines.AsSpan(1))
        {
            var colon = line.IndexOf(':');
            if (colon <= 0)
            {
                continue;
            }
            var name = line.AsSpan(0, colon);
            var value = line.AsSpan(colon + 1).Trim();
            if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) && long.TryParse(value, out var length))
            {
                contentLength = length;
            }
            else if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                chunked = value.EndsWith("chunked", StringComparison.OrdinalIgnoreCase);
            }
            else if (name.Equals("Connection", StringComparison.OrdinalIgnoreCase))
            {
                close = value.Contains("close", StringComparison.OrdinalIgnoreCase);
            }
        }
        return true;
    }

    private void Copy(ReadOnlySequence<byte> bytes)
    {
        foreach (var segment in bytes)
        {
            Output.Write(segment.Span);
        }
    }

    // Copies up to `count` bytes of body; false when the body (or the connection) ended first.
    private async Task<bool> RelayBytesAsync(PipeReader from, long count)
    {
        while (count > 0)
        {
            var result = await from.ReadAsync();
            var buffer = result.Buffer;
            // Lengths are taken before AdvanceTo: after it the segments may be reused.
            var available = buffer.Length;
            var take = buffer.Slice(0, Math.Min(count, available));
            var taken = take.Length;
            Copy(take);
            from.AdvanceTo(take.End);
            count -= taken;
            var flushed = await Output.FlushAsync();
            if (flushed.IsCompleted || (count > 0 && result.IsCompleted && taken == available))
            {
                return false;
            }
        }
        return true;
    }

    // Chunk by chunk: size line, data and CRLF; after the last (size 0), trailer lines up to the blank one.
    private async Task<bool> RelayChunksAsync(PipeReader from)
    {
        while (true)
        {
            var line = await RelayThroughAsync(from, CrLf);
            if (line is null)
            {
                return false;
            }
            var sizeText = line.AsSpan(0, line.IndexOf(';') is var semicolon and >= 0 ? semicolon : line.Length).Trim();
            if (!long.TryParse(sizeText, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var size))
            {
                return false;
            }
            if (size == 0)
            {
                while (await RelayThroughAsync(from, CrLf) is { } trailer)
                {
                    if (trailer.Length == 0)
                    {
                        await Output.FlushAsync();
                        return true;
                    }
                }
                return false;
            }
            if (!await RelayBytesAsync(from, size + 2))
            {
                return false;
            }
        }
    }

    // Relays the response up to and with the next delimiter and returns the text before it; null when the
    // response ended first or runs too long without one (then what came is relayed as it is).
    private async Task<string?> RelayThroughAsync(PipeReader from, byte[] delimiter)
    {
        while (true)
        {
            var result = await from.ReadAsync();
            var buffer = result.Buffer;
            var reader = new SequenceReader<byte>(buffer);
            if (reader.TryReadTo(out ReadOnlySequence<byte> before, delimiter, advancePastDelimiter: true))
            {
                var text = Encoding.ASCII.GetString(before);
                Copy(buffer.Slice(0, reader.Position));
                from.AdvanceTo(reader.Position);
                return text;
            }
            if (result.IsCompleted || buffer.Length > MaxResponseHeadBytes)
            {
                Copy(buffer);
                from.AdvanceTo(buffer.End);
                return null;
            }
            from.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>The connection Kestrel's HTTP/1.1 layer serves forwarded requests on: in-memory pipes, the client connection's features and endpoints.</summary>
    private sealed class InnerConnection : ConnectionContext
    {
        private static readonly PipeOptions Options = new(useSynchronizationContext: false);

        private readonly ConnectionContext outer;
        private readonly Pipe requests = new(Options);
        private readonly Pipe responses = new(Options);

        public InnerConnection(ConnectionContext outer, HeartbeatRelay heartbeat)
        {
            this.outer = outer;
            Features = new FeatureCollection(outer.Features);
            // Kestrel registers a heartbeat handler per connection and never removes it: one relay per
            // client connection, pointed at the inner connection of the moment.
            Features.Set<IConnectionHeartbeatFeature>(heartbeat);
            Transport = new DuplexPipe(requests.Reader, responses.Writer);
            // Kestrel may read the transport through this feature too; the client connection's would bypass the relay.
            Features.Set<IConnectionTransportFeature>(new TransportFeature(Transport));
            LocalEndPoint = outer.LocalEndPoint;
            RemoteEndPoint = outer.RemoteEndPoint;
        }

        /// <summary>Kestrel serving this connection; when it is done, its output is complete too, so no relay waits for more.</summary>
        public Task Running { get; private set; } = Task.CompletedTask;

        public void Start(ConnectionDelegate kestrel) => Running = RunAsync(kestrel);

        private async Task RunAsync(ConnectionDelegate kestrel)
        {
            try
            {
                await kestrel(this);
            }
            finally
            {
                responses.Writer.Complete();
            }
        }

        public PipeWriter Requests => requests.Writer;

        public PipeReader Responses => responses.Reader;

        public override IDuplexPipe Transport { get; set; }

        public override string ConnectionId { get => outer.ConnectionId; set { } }

        public override IFeatureCollection Features { get; }

        public override IDictionary<object, object?> Items { get => outer.Items; set { } }

        public override CancellationToken ConnectionClosed { get => outer.ConnectionClosed; set { } }

        public override void Abort(ConnectionAbortedException abortReason) => outer.Abort(abortReason);

        /// <summary>Ends Kestrel's input and output, and waits for it to finish with the connection.</summary>
        public async Task EndAsync()
        {
            requests.Writer.Complete();
            responses.Reader.Complete();
            try
            {
                await Running;
            }
            catch (Exception)
            {
                // Kestrel logs its own failures.
            }
        }

        private sealed class TransportFeature(IDuplexPipe transport) : IConnectionTransportFeature
        {
            public IDuplexPipe Transport { get; set; } = transport;
        }

        private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
        {
            public PipeReader Input { get; } = input;

            public PipeWriter Output { get; } = output;
        }
    }

    private sealed class HeartbeatRelay : IConnectionHeartbeatFeature
    {
        private (Action<object> Action, object State)? current;

        public HeartbeatRelay(IConnectionHeartbeatFeature? client) =>
            client?.OnHeartbeat(static state => ((HeartbeatRelay)state).Tick(), this);

        public void OnHeartbeat(Action<object> action, object state) => current = (action, state);

        private void Tick()
        {
            if (current is var (action, state))
            {
                action(state);
            }
        }
    }
}
