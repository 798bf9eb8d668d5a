using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Sidecar.StaticWeb;

/// <summary>
/// Strong ETags from a file's content: SHA-256, first 128 bits, base64url. Remembered per
/// <see cref="FileIdentity"/>, across revisions, so a file is hashed once; a file whose bytes did
/// not change keeps its ETag across syncs even when its mtime did.
/// </summary>
public sealed class ContentHashETags
{
    // Bounded by entry count; a full table is cleared, which costs one re-hash per file.
    private const int MaxEntries = 200_000;

    private readonly ConcurrentDictionary<FileIdentity, string> byIdentity = new();

    public string For(string path, FileIdentity identity, ReadOnlySpan<byte> contentIfRead)
    {
        if (byIdentity.TryGetValue(identity, out var known))
        {
            return known;
        }
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        if (contentIfRead.Length == identity.Size)
        {
            SHA256.HashData(contentIfRead, hash);
        }
        else
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            SHA256.HashData(stream, hash);
        }
        var etag = Format(hash[..16]);
        if (byIdentity.Count >= MaxEntries)
        {
            byIdentity.Clear();
        }
        byIdentity[identity] = etag;
        return etag;
    }

    private static string Format(ReadOnlySpan<byte> digest) =>
        "\"" + Convert.ToBase64String(digest).TrimEnd('=').Replace('+', '-').Replace('/', '_') + "\"";
}
