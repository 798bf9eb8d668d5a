namespace Sidecar.StaticWeb.Compression;

/// <summary>
/// Collects an encoder's output in pieces below the large-object threshold and hands it over as one array of
/// exactly its length: the body is copied once, and no buffer is guessed too large or grown by doubling.
/// </summary>
internal sealed class CompressedOutput : Stream
{
    // Below the 85,000-byte large-object threshold: pieces die young, only the final body is a large object.
    private const int PieceBytes = 64 * 1024;

    private readonly List<byte[]> pieces = [];
    private int lastUsed = PieceBytes;
    private long length;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => length;
    public override long Position { get => length; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            if (lastUsed == PieceBytes)
            {
                pieces.Add(new byte[PieceBytes]);
                lastUsed = 0;
            }
            var count = Math.Min(buffer.Length, PieceBytes - lastUsed);
            buffer[..count].CopyTo(pieces[^1].AsSpan(lastUsed));
            lastUsed += count;
            length += count;
            buffer = buffer[count..];
        }
    }

    /// <summary>The bytes written, in one array of their exact length.</summary>
    public byte[] ToArray()
    {
        var body = GC.AllocateUninitializedArray<byte>(checked((int)length));
        var at = 0;
        foreach (var piece in pieces)
        {
            var count = (int)Math.Min(PieceBytes, length - at);
            piece.AsSpan(0, count).CopyTo(body.AsSpan(at));
            at += count;
        }
        return body;
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
