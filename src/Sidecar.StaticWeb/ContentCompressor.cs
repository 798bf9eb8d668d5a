using System.IO.Compression;

namespace Sidecar.StaticWeb;

/// <summary>Compresses a file's bytes with brotli or gzip; called once per file and coding per revision.</summary>
public static class ContentCompressor
{
    public static byte[] Compress(ReadOnlySpan<byte> content, ContentCoding coding)
    {
        using var output = new MemoryStream(content.Length / 3 + 64);
        using (Stream compressor = coding == ContentCoding.Brotli
            ? new BrotliStream(output, CompressionLevel.Optimal, leaveOpen: true)
            : new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            compressor.Write(content);
        }
        return output.ToArray();
    }
}
