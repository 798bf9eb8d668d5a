using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Sidecar.StaticWeb.Compression;
using Sidecar.StaticWeb.Revisions;
using Sidecar.StaticWeb.Settings;

namespace Sidecar.StaticWeb.Files;

/// <summary>
/// Reads what a request path names from the resolved revision on disk and builds its
/// <see cref="FileEntry"/>: type, validators, cache policy, small bodies in memory, and the
/// encoded forms (a precompressed <c>.br</c>/<c>.gz</c> sibling, else compressed once on demand).
/// </summary>
public sealed class FileEntryLoader(
    IOptions<StaticWebOptions> options,
    WebContentTypes contentTypes,
    CacheControlPolicy cacheControl,
    ContentHashETags etags)
{
    // What an entry costs in memory besides its bodies, roughly; counted against the cache budget.
    private const int EntryOverheadBytes = 512;

    private readonly StaticWebOptions settings = options.Value;

    /// <summary>Finds what the path names; caches a found file in <paramref name="cache"/> under <paramref name="requestPath"/>.</summary>
    public SiteLookup Find(ResolvedRoot root, RevisionCache cache, string requestPath, string[] segments)
    {
        var path = Path.Join([root.Directory, .. segments]);
        var endsWithSlash = requestPath.EndsWith('/');
        if (Directory.Exists(path))
        {
            if (!endsWithSlash)
            {
                return new SiteLookup(SiteLookupKind.DirectoryWithoutSlash);
            }
            if (!RevisionBoundary.Contains(root, path, allowRoot: true))
            {
                return SiteLookup.NotFound;
            }
            foreach (var index in settings.IndexFiles)
            {
                if (Load(root, cache, requestPath, Path.Join(path, index)) is { } indexEntry)
                {
                    return new SiteLookup(SiteLookupKind.File, indexEntry);
                }
            }
            return new SiteLookup(SiteLookupKind.DirectoryWithoutIndex, DirectoryPath: path);
        }
        if (endsWithSlash)
        {
            // A file asked for as a directory, as nginx answers it.
            return SiteLookup.NotFound;
        }
        return Load(root, cache, requestPath, path) is { } entry ? new SiteLookup(SiteLookupKind.File, entry) : SiteLookup.NotFound;
    }

    /// <summary>A site file named by a setting (the 404 page, the SPA fallback), from the cache or disk.</summary>
    public FileEntry? FindSiteFile(ResolvedRoot root, RevisionCache cache, string relativePath)
    {
        var key = "/" + relativePath;
        if (cache.TryGet(key, out var cached))
        {
            return cached;
        }
        return Load(root, cache, key, Path.Join(root.Directory, relativePath));
    }

    private FileEntry? Load(ResolvedRoot root, RevisionCache cache, string requestPath, string path)
    {
        if (FileIdentity.Of(path) is not { } identity || !RevisionBoundary.Contains(root, path))
        {
            return null;
        }
        var fileName = Path.GetFileName(path);
        if (contentTypes.For(fileName) is not { } contentType)
        {
            return null;
        }

        var cached = cache.TryReserve(EntryOverheadBytes + requestPath.Length * 2);
        var body = cached && identity.Size <= settings.CacheMaxFileBytes && cache.TryReserve(identity.Size)
            ? File.ReadAllBytes(path)
            : null;
        var etag = etags.For(path, identity, body);
        var lastModified = identity.LastModified;

        var brotli = Sibling(root, cache, path + ".br", "br");
        var gzip = Sibling(root, cache, path + ".gz", "gzip");
        if (cached && settings.Compression && WebContentTypes.IsCompressible(contentType) && identity.Size <= settings.CompressionMaxFileBytes)
        {
            brotli ??= Compressed(cache, path, body, etag, identity.Size, ContentCoding.Brotli);
            gzip ??= Compressed(cache, path, body, etag, identity.Size, ContentCoding.Gzip);
        }

        var entry = new FileEntry
        {
            Identity = new Representation(etag, identity.Size, body, path, null),
            ContentType = contentType,
            CacheControl = cacheControl.For(fileName, contentType),
            LastModified = lastModified,
            LastModifiedHeader = HeaderUtilities.FormatDate(lastModified),
            Brotli = brotli,
            Gzip = gzip,
        };
        if (cached)
        {
            cache.Add(requestPath, entry);
        }
        return entry;
    }

    private Lazy<Representation?>? Sibling(ResolvedRoot root, RevisionCache cache, string path, string coding)
    {
        if (FileIdentity.Of(path) is not { } identity || !RevisionBoundary.Contains(root, path))
        {
            return null;
        }
        var body = identity.Size <= settings.CacheMaxFileBytes && cache.TryReserve(identity.Size) ? File.ReadAllBytes(path) : null;
        var representation = new Representation(etags.For(path, identity, body), identity.Size, body, path, coding);
        return new Lazy<Representation?>(representation);
    }

    // Compressed at the first request that accepts the coding, once for the revision; null if it does not pay off or fit.
    private static Lazy<Representation?> Compressed(RevisionCache cache, string path, byte[]? body, string etag, long size, ContentCoding coding) =>
        new(() =>
        {
            var compressed = ContentCompressor.Compress(body, path, coding);
            if (compressed.Length >= size || !cache.TryReserve(compressed.Length))
            {
                return null;
            }
            var suffix = coding == ContentCoding.Brotli ? "br" : "gz";
            return new Representation(etag[..^1] + "-" + suffix + "\"", compressed.Length, compressed, null, suffix == "br" ? "br" : "gzip");
        }, LazyThreadSafetyMode.ExecutionAndPublication);
}
