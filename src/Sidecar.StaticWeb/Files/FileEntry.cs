namespace Sidecar.StaticWeb.Files;

/// <summary>One way of sending a file's content: as it is on disk, or brotli- or gzip-encoded.</summary>
/// <param name="ETag">A strong ETag of exactly these bytes.</param>
/// <param name="Length">The number of bytes sent.</param>
/// <param name="Body">The bytes, when kept in memory; otherwise they are sent from <paramref name="PhysicalPath"/>.</param>
/// <param name="PhysicalPath">The file on disk holding these bytes, when there is one.</param>
/// <param name="Coding">The <c>Content-Encoding</c>, or null for the file as it is.</param>
public sealed record Representation(string ETag, long Length, byte[]? Body, string? PhysicalPath, string? Coding);

/// <summary>
/// What the server knows about one file of one revision: everything a response needs except the
/// bytes of large files. Safe to keep for the revision's life, because a published snapshot never changes.
/// </summary>
public sealed class FileEntry
{
    public required Representation Identity { get; init; }
    public required string ContentType { get; init; }
    public required string CacheControl { get; init; }
    public required DateTimeOffset LastModified { get; init; }
    public required string LastModifiedHeader { get; init; }

    /// <summary>The brotli form (a <c>.br</c> sibling or compressed once), or null when there is none worth sending.</summary>
    public Lazy<Representation?>? Brotli { get; init; }

    /// <summary>The gzip form (a <c>.gz</c> sibling or compressed once), or null when there is none worth sending.</summary>
    public Lazy<Representation?>? Gzip { get; init; }

    /// <summary>The response depends on <c>Accept-Encoding</c>.</summary>
    public bool VariesByEncoding => Brotli is not null || Gzip is not null;
}
