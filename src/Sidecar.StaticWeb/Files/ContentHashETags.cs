using System.Collections.Concurrent;
using System.IO.Hashing;

namespace Sidecar.StaticWeb.Files;

/// <summary>
/// Strong ETags from a file's content: XXH128, base64url. Not a cryptographic hash: an ETag only has to
/// change when the bytes do, and this one loads no crypto library and hashes several times faster. Remembered per
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
        Span<byte> hash = stackalloc byte[16];
        if (contentIfRead.Length == identity.Size)
        {
            XxHash128.Hash(contentIfRead, hash);
        }
        else
        {
            var hasher = new XxHash128();
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            hasher.Append(stream);
            hasher.GetCurrentHash(hash);
        }
        var etag = Format(hash);
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
