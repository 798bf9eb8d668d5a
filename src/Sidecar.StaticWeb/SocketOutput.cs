using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Sidecar.StaticWeb;

/// <summary>
/// The fast path's output on a connection of Kestrel's socket transport, on Linux: what it writes is
/// sent straight to the client's socket on each flush, from the fast path's own task, instead of
/// through the transport's output pipe and its send loop. A large body kept in memory is sent from
/// where it is (no copy), and a file from disk with <c>sendfile(2)</c> (zero-copy).
/// </summary>
/// <remarks>
/// <para>
/// A flush first offers everything to the kernel without waiting (<c>send(2)</c> with
/// <c>MSG_DONTWAIT</c>, the head marked <c>MSG_MORE</c> when a body follows, then <c>sendfile(2)</c>),
/// which most often takes it all. What it leaves goes out in steps: a small piece through the
/// runtime's send, which waits until the client has read enough, then again as much as the kernel
/// takes at once. Each step counts as progress, so a client that reads slowly keeps its connection,
/// and one that stopped reading is disconnected by the idle sweep (<see cref="AbortIfStalled"/>),
/// as nginx's <c>send_timeout</c> does.
/// </para>
/// <para>
/// Only the fast path writes to the socket while it holds the connection, and every send is complete
/// before the connection is handed to Kestrel, whose output pipe is still empty then; so the two never
/// write at the same time. A send cut short (the client reset, or the connection was aborted) leaves
/// the connection broken: the flush reports it completed, and the connection ends.
/// </para>
/// </remarks>
internal sealed partial class SocketOutput(Socket socket, Action abort) : PipeWriter
{
    /// <summary>A body at least this long is sent from its own array rather than copied into the buffer.</summary>
    public const int SharedBodyBytes = 8 * 1024;

    private const int InitialBytes = 8 * 1024;

    // What one waiting step sends: small, so that a slow reader shows progress at every step.
    private const int StepBytes = 1024;

    private byte[] buffer = ArrayPool<byte>.Shared.Rent(InitialBytes);
    private int written;
    private ReadOnlyMemory<byte> tail;
    private SafeFileHandle? file;
    private int fileLength;
    private byte[]? step;
    private volatile bool sending;
    private volatile bool broken;
    private long progress;
    private long progressAtLastSweep = -1;

    /// <summary>Whether the fast path can write to sockets itself here (it calls Linux's <c>send(2)</c> and <c>sendfile(2)</c>).</summary>
    public static bool IsSupported => OperatingSystem.IsLinux();

    /// <summary>True once a body or a file is queued after the buffered bytes: nothing more may be written before the next flush.</summary>
    public bool HasTail => !tail.IsEmpty || file is not null;

    private long TailLength => file is not null ? fileLength : tail.Length;

    /// <summary>Queues a body after what is written, sent from its own array on the next flush.</summary>
    public void WriteTail(ReadOnlyMemory<byte> body)
    {
        ThrowIfTail();
        tail = body;
    }

    /// <summary>Queues a whole file after what is written, sent with <c>sendfile(2)</c> on the next flush, which disposes of it.</summary>
    public void WriteFile(SafeFileHandle handle, int length)
    {
        ThrowIfTail();
        file = handle;
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

    /// <summary>Aborts the connection when a send is under way (the server is stopping); otherwise nothing is pending.</summary>
    public override void CancelPendingFlush()
    {
        if (sending)
        {
            broken = true;
            abort();
        }
    }

    /// <summary>
    /// Called by the idle sweep: aborts the connection when a send is under way and has made no
    /// progress since the last sweep (a client that stopped reading).
    /// </summary>
    public void AbortIfStalled()
    {
        var now = Interlocked.Read(ref progress);
        if (sending && now == progressAtLastSweep)
        {
            CancelPendingFlush();
        }
        progressAtLastSweep = now;
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
            var position = SendNow(0);
            if (position == written + TailLength)
            {
                Sent();
                return default;
            }
            return SendRestAsync(position);
        }
        catch (Exception e) when (IsBrokenConnection(e))
        {
            return new(Broken());
        }
    }

    // The rest, from `position` (bytes of the buffer, then of the body or file): a step that waits for
    // the client, then as much as the kernel takes at once, until all is sent.
    private async ValueTask<FlushResult> SendRestAsync(long position)
    {
        sending = true;
        try
        {
            var total = written + TailLength;
            while (position < total)
            {
                position += await SendStepAsync(position);
                Interlocked.Increment(ref progress);
                position = SendNow(position);
            }
            Sent();
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

    // Offers the kernel what is left from `position` without waiting; returns the new position.
    private long SendNow(long position)
    {
        if (position < written)
        {
            position += TrySend(buffer.AsSpan((int)position, written - (int)position), more: HasTail);
            if (position < written)
            {
                return position;
            }
        }
        if (file is not null)
        {
            long offset = position - written;
            TrySendFile(file, ref offset, fileLength);
            return written + offset;
        }
        if (!tail.IsEmpty)
        {
            position += TrySend(tail.Span[(int)(position - written)..], more: false);
        }
        return position;
    }

    // Up to StepBytes from `position` through the runtime's send, which waits until the socket takes them.
    private async ValueTask<int> SendStepAsync(long position)
    {
        ReadOnlyMemory<byte> piece;
        if (position < written)
        {
            piece = buffer.AsMemory((int)position, Math.Min(StepBytes, written - (int)position));
        }
        else if (file is not null)
        {
            step ??= new byte[StepBytes];
            var read = RandomAccess.Read(file, step, position - written);
            if (read == 0)
            {
                throw new IOException($"The file sent ended before its length of {fileLength} bytes.");
            }
            piece = step.AsMemory(0, (int)Math.Min(read, fileLength - (position - written)));
        }
        else
        {
            var from = (int)(position - written);
            piece = tail.Slice(from, Math.Min(StepBytes, tail.Length - from));
        }
        return await socket.SendAsync(piece, SocketFlags.None);
    }

    // send(2) without waiting; the bytes the kernel took (0 when the socket is full).
    private int TrySend(ReadOnlySpan<byte> bytes, bool more)
    {
        if (bytes.IsEmpty)
        {
            return 0;
        }
        var sent = Native.Send(socket.SafeHandle, bytes, bytes.Length, Native.MsgDontWait | Native.MsgNoSignal | (more ? Native.MsgMore : 0));
        return sent >= 0 ? (int)sent : WouldBlock();
    }

    // sendfile(2) from `offset` up to `length`, until the kernel takes no more without waiting.
    private void TrySendFile(SafeFileHandle handle, ref long offset, long length)
    {
        while (offset < length)
        {
            var sent = Native.SendFile(socket.SafeHandle, handle, ref offset, (nuint)(length - offset));
            if (sent <= 0)
            {
                if (sent < 0)
                {
                    WouldBlock();
                }
                return;
            }
        }
    }

    // 0 when the last call found the socket full (or was interrupted); otherwise the connection is broken.
    private static int WouldBlock()
    {
        var error = Marshal.GetLastPInvokeError();
        return error is Native.EAgain or Native.EIntr
            ? 0
            : throw new IOException($"Sending to the client failed: {Marshal.GetPInvokeErrorMessage(error)}");
    }

    private static bool IsBrokenConnection(Exception e) => e is SocketException or ObjectDisposedException or IOException;

    private void Sent()
    {
        Interlocked.Increment(ref progress);
        written = 0;
        tail = default;
        DropFile();
    }

    private FlushResult Broken()
    {
        broken = true;
        sending = false;
        tail = default;
        DropFile();
        return new FlushResult(isCanceled: false, isCompleted: true);
    }

    private void DropFile() => Interlocked.Exchange(ref file, null)?.Dispose();

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
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
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
