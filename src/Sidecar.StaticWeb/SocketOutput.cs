using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Sidecar.StaticWeb;

/// <summary>
/// The fast path's output on a connection of Kestrel's socket transport: what it writes is sent
/// straight to the client's socket on each flush, from the fast path's own task, instead of through
/// the transport's output pipe and its send loop. A large body kept in memory is sent from where it is
/// (no copy), and a file from disk with <c>sendfile(2)</c> (zero-copy).
/// </summary>
/// <remarks>
/// Only the fast path writes to the socket while it holds the connection, and every send is complete
/// before the connection is handed to Kestrel, whose output pipe is still empty then; so the two never
/// write at the same time. A send cut short (the client reset, or it stopped reading for a whole idle
/// period and the connection was aborted) leaves the connection broken: the flush reports it completed,
/// and the connection ends.
/// </remarks>
internal sealed partial class SocketOutput(Socket socket, Action abort) : PipeWriter
{
    /// <summary>A body at least this long is sent from its own array rather than copied into the buffer.</summary>
    public const int SharedBodyBytes = 8 * 1024;

    private const int InitialBytes = 8 * 1024;

    private byte[] buffer = ArrayPool<byte>.Shared.Rent(InitialBytes);
    private int written;
    private ReadOnlyMemory<byte> tail;
    private FileStream? file;
    private int fileLength;
    private volatile bool sending;
    private volatile bool broken;
    private List<ArraySegment<byte>>? gather;

    /// <summary>True once a body or a file is queued after the buffered bytes: nothing more may be written before the next flush.</summary>
    public bool HasTail => !tail.IsEmpty || file is not null;

    /// <summary>Queues a body after what is written, sent from its own array on the next flush.</summary>
    public void WriteTail(ReadOnlyMemory<byte> body)
    {
        ThrowIfTail();
        tail = body;
    }

    /// <summary>Queues a whole file after what is written, sent with <c>sendfile(2)</c> on the next flush, which disposes of it.</summary>
    public void WriteFile(FileStream stream, int length)
    {
        ThrowIfTail();
        file = stream;
        fileLength = length;
    }

    public override void Advance(int bytes) => written += bytes;

    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return buffer.AsMemory(written);
    }

    public override Span<byte> GetSpan(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return buffer.AsSpan(written);
    }

    /// <summary>Aborts the connection when a send is under way (a client that does not read); otherwise nothing is pending.</summary>
    public override void CancelPendingFlush()
    {
        if (sending)
        {
            broken = true;
            abort();
        }
    }

    public override void Complete(Exception? exception = null)
    {
        DropFile();
        var returned = Interlocked.Exchange(ref buffer, []);
        if (returned.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(returned);
        }
    }

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        if (broken)
        {
            return new(Broken());
        }
        if (written == 0 && !HasTail)
        {
            return default;
        }
        try
        {
            if (tail.IsEmpty && file is null)
            {
                var send = SendBufferAsync();
                if (send.IsCompletedSuccessfully)
                {
                    written = 0;
                    return default;
                }
                return AwaitAsync(send.AsTask());
            }
            return AwaitAsync(file is null ? SendWithTailAsync() : SendWithFileAsync());
        }
        catch (Exception e) when (IsBrokenConnection(e))
        {
            return new(Broken());
        }
    }

    private static bool IsBrokenConnection(Exception e) => e is SocketException or ObjectDisposedException or IOException;

    private FlushResult Broken()
    {
        broken = true;
        sending = false;
        tail = default;
        DropFile();
        return new FlushResult(isCanceled: false, isCompleted: true);
    }

    private ValueTask<int> SendBufferAsync()
    {
        sending = true;
        try
        {
            var send = socket.SendAsync(buffer.AsMemory(0, written), SocketFlags.None);
            if (send.IsCompletedSuccessfully && send.Result == written)
            {
                sending = false;
                return send;
            }
            return new(SendRestAsync(send));
        }
        catch
        {
            sending = false;
            throw;
        }
    }

    // A send the kernel did not take at once: waits for it, and sends what it left.
    private async Task<int> SendRestAsync(ValueTask<int> started)
    {
        var sent = await started;
        while (sent < written)
        {
            sent += await socket.SendAsync(buffer.AsMemory(sent, written - sent), SocketFlags.None);
        }
        sending = false;
        return sent;
    }

    private async Task SendWithTailAsync()
    {
        sending = true;
        gather ??= new List<ArraySegment<byte>>(2);
        gather.Clear();
        if (written > 0)
        {
            gather.Add(new ArraySegment<byte>(buffer, 0, written));
        }
        var body = System.Runtime.InteropServices.MemoryMarshal.TryGetArray(tail, out var segment)
            ? segment
            : new ArraySegment<byte>(tail.ToArray());
        gather.Add(body);
        var total = written + body.Count;
        var sent = await socket.SendAsync(gather, SocketFlags.None);
        if (sent < total)
        {
            // What the kernel did not take, in order: the rest of the buffer, then the rest of the body.
            if (sent < written)
            {
                await SendAllAsync(buffer.AsMemory(sent, written - sent));
                sent = written;
            }
            await SendAllAsync(body.AsMemory(sent - written));
        }
        tail = default;
        written = 0;
        sending = false;
    }

    private async Task SendWithFileAsync()
    {
        sending = true;
        var stream = file!;
        try
        {
            long sent = 0;
            if (OperatingSystem.IsLinux())
            {
                // Most often the kernel takes the head and the whole file at once: two system calls, no
                // completion to wait for. What it does not take goes the runtime's way below.
                var head = SendDirect(buffer.AsSpan(0, written));
                if (head < written)
                {
                    await SendAllAsync(buffer.AsMemory(head, written - head));
                }
                written = 0;
                sent = SendFileDirect(stream.SafeFileHandle, fileLength);
            }
            if (written > 0 || sent < fileLength)
            {
                await SendPacketsAsync(stream, sent);
            }
        }
        finally
        {
            DropFile();
        }
        written = 0;
        sending = false;
    }

    // The runtime's send-file (sendfile(2) on Linux), waiting for the socket as needed: the buffered
    // bytes, then the file from `offset`.
    private async Task SendPacketsAsync(FileStream stream, long offset)
    {
        using var args = new SocketAsyncEventArgs();
        var rest = new SendPacketsElement(stream, offset, (int)(fileLength - offset), endOfPacket: true);
        args.SendPacketsElements = written > 0 ? [new SendPacketsElement(buffer.AsMemory(0, written)), rest] : [rest];
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        args.Completed += (_, _) => done.TrySetResult();
        if (socket.SendPacketsAsync(args))
        {
            await done.Task;
        }
        if (args.SocketError != SocketError.Success)
        {
            throw new SocketException((int)args.SocketError);
        }
    }

    // send(2) without waiting, the head marked as followed by more (so it leaves with the file's first
    // bytes): the bytes the kernel took.
    private int SendDirect(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return 0;
        }
        var sent = Native.Send(socket.SafeHandle, bytes, bytes.Length, Native.MsgDontWait | Native.MsgMore | Native.MsgNoSignal);
        return sent >= 0 ? (int)sent : WouldBlock() ? 0 : throw new SocketException(Marshal.GetLastPInvokeError());
    }

    // sendfile(2) until the kernel takes no more without waiting: the bytes of the file sent.
    private long SendFileDirect(SafeFileHandle handle, long length)
    {
        long offset = 0;
        while (offset < length)
        {
            var sent = Native.SendFile(socket.SafeHandle, handle, ref offset, (nuint)(length - offset));
            if (sent < 0)
            {
                return WouldBlock() ? offset : throw new SocketException(Marshal.GetLastPInvokeError());
            }
            if (sent == 0)
            {
                break;
            }
        }
        return offset;
    }

    private static bool WouldBlock() => Marshal.GetLastPInvokeError() is Native.EAgain or Native.EIntr;

    private async Task SendAllAsync(ReadOnlyMemory<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            bytes = bytes[await socket.SendAsync(bytes, SocketFlags.None)..];
        }
    }

    // The connection is over after a failed send: part of a response may have gone out.
    private async ValueTask<FlushResult> AwaitAsync(Task send)
    {
        try
        {
            await send;
            written = 0;
            return default;
        }
        catch (Exception e) when (IsBrokenConnection(e))
        {
            return Broken();
        }
        finally
        {
            sending = false;
        }
    }

    private void DropFile()
    {
        Interlocked.Exchange(ref file, null)?.Dispose();
    }

    private void Reserve(int sizeHint)
    {
        ThrowIfTail();
        var needed = written + Math.Max(sizeHint, 1);
        if (needed <= buffer.Length)
        {
            return;
        }
        var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, buffer.Length * 2));
        buffer.AsSpan(0, written).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(buffer);
        buffer = larger;
    }

    private void ThrowIfTail()
    {
        if (HasTail)
        {
            throw new InvalidOperationException("A body or file is queued: flush before writing more.");
        }
    }

    private static partial class Native
    {
        public const int EAgain = 11;
        public const int EIntr = 4;
        public const int MsgDontWait = 0x40;
        public const int MsgMore = 0x8000;
        public const int MsgNoSignal = 0x4000;

        [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
        public static partial nint Send(SafeSocketHandle socket, ReadOnlySpan<byte> buffer, nint length, int flags);

        [LibraryImport("libc", EntryPoint = "sendfile", SetLastError = true)]
        public static partial nint SendFile(SafeSocketHandle socket, SafeFileHandle file, ref long offset, nuint count);
    }
}
