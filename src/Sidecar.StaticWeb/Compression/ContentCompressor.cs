using System.Buffers;
using System.IO.Compression;

namespace Sidecar.StaticWeb.Compression;

/// <summary>Compresses a file's bytes with brotli or gzip; called once per file and coding per revision.</summary>
public static class ContentCompressor
{
    // Brotli quality 5 with a 256 KiB window: smaller output than BrotliStream's default (quality 4, 4 MiB
    // window) for text, and about 7 MB of encoder memory for a 5 MB file instead of about 25 MB.
    public const int BrotliQuality = 5;
    public const int BrotliWindowBits = 18;

    private const int ChunkBytes = 64 * 1024;

    /// <summary>Compresses <paramref name="content"/> when it is in memory, else streams the file at <paramref name="path"/> through the encoder.</summary>
    public static byte[] Compress(byte[]? content, string path, ContentCoding coding)
    {
        // A file read in pieces never has its whole body in memory; the output is kept in pieces until its length is known.
        using var output = new CompressedOutput();
        using var file = content is null
            ? new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan)
            : null;
        Stream input = (Stream?)file ?? new MemoryStream(content!, writable: false);
        if (coding == ContentCoding.Brotli)
        {
            CompressBrotli(input, output);
        }
        else
        {
            using var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true);
            input.CopyTo(gzip, ChunkBytes);
        }
        return output.ToArray();
    }

    private static void CompressBrotli(Stream input, CompressedOutput output)
    {
        using var encoder = new BrotliEncoder(BrotliQuality, BrotliWindowBits);
        var buffers = ArrayPool<byte>.Shared.Rent(2 * ChunkBytes);
        try
        {
            var read = buffers.AsMemory(0, ChunkBytes);
            var written = buffers.AsSpan(ChunkBytes, ChunkBytes);
            int count;
            while ((count = input.Read(read.Span)) > 0)
            {
                var source = read.Span[..count];
                while (!source.IsEmpty)
                {
                    encoder.Compress(source, written, out var consumed, out var produced, isFinalBlock: false);
                    output.Write(written[..produced]);
                    source = source[consumed..];
                }
            }
            OperationStatus status;
            do
            {
                status = encoder.Compress(ReadOnlySpan<byte>.Empty, written, out _, out var produced, isFinalBlock: true);
                output.Write(written[..produced]);
            }
            while (status == OperationStatus.DestinationTooSmall);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffers);
        }
    }
}
