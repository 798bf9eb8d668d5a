namespace Sidecar.StaticWeb.Settings;

/// <summary>The server's settings, bound from the <c>StaticWeb</c> configuration section and validated at start.</summary>
public sealed class StaticWebOptions
{
    public const string Section = "StaticWeb";

    /// <summary>The folder to serve; usually a symlink that the sidecar swaps (<c>--root</c>, <c>StaticWeb__Root</c>).</summary>
    public string Root { get; set; } = "";

    /// <summary>The files tried, in order, for a request that names a directory; none given means <c>index.html</c>.</summary>
    /// <remarks>Empty by default because configuration binding appends to an array rather than replacing it.</remarks>
    public string[] IndexFiles { get; set; } = [];


    /// <summary>List a directory that has no index file (off: such a directory is a 404).</summary>
    public bool DirectoryListing { get; set; }

    /// <summary>A site file served with 200 for a missing path whose last segment has no extension (single-page apps); empty: off.</summary>
    public string SpaFallback { get; set; } = "";

    /// <summary>A site file served as the body of every 404 when it exists; empty: a plain-text 404.</summary>
    public string NotFoundPage { get; set; } = "404.html";

    /// <summary>Serve files whose extension has no known type, as <see cref="DefaultContentType"/> (off: they are a 404).</summary>
    public bool ServeUnknownFileTypes { get; set; }

    /// <summary>The type of files with an unknown extension, when <see cref="ServeUnknownFileTypes"/> is on.</summary>
    public string DefaultContentType { get; set; } = "application/octet-stream";

    /// <summary>Extra or overriding extension-to-type mappings, e.g. <c>StaticWeb:ContentTypes:.gltf = model/gltf+json</c>.</summary>
    public Dictionary<string, string> ContentTypes { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary><c>Cache-Control</c> of HTML files: revalidate every time, so a new revision is seen at once.</summary>
    public string HtmlCacheControl { get; set; } = "no-cache";

    /// <summary><c>Cache-Control</c> of other files.</summary>
    public string CacheControl { get; set; } = "public, max-age=300";

    /// <summary><c>Cache-Control</c> of files whose name carries a content fingerprint (<see cref="FingerprintPattern"/>).</summary>
    public string FingerprintedCacheControl { get; set; } = "public, max-age=31536000, immutable";

    /// <summary>A regular expression matched against the file name; a match marks it fingerprinted (e.g. <c>app.3f2a9c1e.js</c>).</summary>
    public string FingerprintPattern { get; set; } = @"[.-][0-9a-fA-F]{8,64}\.[A-Za-z0-9]+$";

    /// <summary>Compress compressible types with brotli and gzip (once per revision) when no precompressed sibling exists.</summary>
    public bool Compression { get; set; } = true;

    /// <summary>Files larger than this are not compressed on the fly (precompressed siblings are still used).</summary>
    public long CompressionMaxFileBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>Memory for file metadata, small bodies and compressed variants of the served revision; 0 turns caching off.</summary>
    public long CacheSizeBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>Bodies up to this size are kept in memory; larger files are sent from disk.</summary>
    public long CacheMaxFileBytes { get; set; } = 256 * 1024;

    /// <summary><c>X-Content-Type-Options: nosniff</c> on every response.</summary>
    public bool NoSniff { get; set; } = true;

    /// <summary><c>Referrer-Policy</c> of every response; empty: not sent.</summary>
    public string ReferrerPolicy { get; set; } = "strict-origin-when-cross-origin";

    /// <summary><c>Content-Security-Policy</c> of every response; empty (the default): not sent.</summary>
    public string ContentSecurityPolicy { get; set; } = "";

    /// <summary>A shared secret that lets callers other than loopback use the revision webhook; empty: loopback only.</summary>
    public string RevisionWebhookSecret { get; set; } = "";

    /// <summary>The longest request line (method, URL, version) accepted; longer gets 414.</summary>
    public int MaxRequestLineBytes { get; set; } = 8 * 1024;

    /// <summary>
    /// Serve files from memory on the thread that completed the socket read instead of handing each
    /// request to the thread pool (Kestrel's UnsafePreferInlineScheduling). Anything that reads,
    /// hashes or compresses a file still moves to the thread pool, so a cache miss does not hold up
    /// the other connections on that thread. On by default.
    /// </summary>
    public bool InlineSocketScheduling { get; set; } = true;

    /// <summary>
    /// The share of requests traced when the caller did not decide (no sampled <c>traceparent</c>),
    /// 0 to 1. Unset: every request in the Development environment, 5% elsewhere. Revision switches
    /// are always traced; request metrics are never sampled. Ignored when <c>OTEL_TRACES_SAMPLER</c> is set.
    /// </summary>
    public double? RequestTraceSampleRatio { get; set; }

    /// <summary>
    /// Kestrel's zero-byte read before each receive, which leaves an idle connection without a
    /// buffer (about 4 KiB each) at the cost of one more receive system call per request. Off by
    /// default: a static server's keep-alive connections are busy, and the extra call per request
    /// costs more than the memory.
    /// </summary>
    public bool WaitForDataBeforeAllocatingBuffer { get; set; }

    /// <summary>
    /// Once the server listens, one compacting collection that returns what starting up left behind
    /// (configuration, dependency injection, telemetry set-up: about 2 MB) to the system
    /// (<c>GCCollectionMode.Aggressive</c>: the collector decommits as much memory as it can).
    /// On by default; it runs once, off the request path.
    /// </summary>
    public bool ReleaseStartupMemory { get; set; } = true;

    /// <summary>
    /// How a swap of the link is noticed. <c>request</c> (the default): every request checks the link
    /// at its start (one poll(2) of a watch on its folder, a readlink(2) after that folder changed), so a
    /// request made after the swap is served from the new revision. <c>webhook</c>: requests use the revision the
    /// link named when last read, which is read again when the sidecar's webhook announces a revision
    /// (<c>POST /_sidecar/revision</c>), when a resolved revision turns out deleted, and every
    /// <see cref="RevisionCheckSeconds"/> in case an announcement is lost; saves the system call per request.
    /// </summary>
    public RevisionCheck RevisionCheck { get; set; } = RevisionCheck.Request;

    /// <summary>Whether requests read the link themselves (<see cref="RevisionCheck"/> is <c>request</c>).</summary>
    public bool ChecksRevisionPerRequest => RevisionCheck == RevisionCheck.Request;

    /// <summary>With <see cref="RevisionCheck"/> <c>webhook</c>, how often the link is read anyway.</summary>
    public int RevisionCheckSeconds { get; set; } = 10;

    /// <summary>The most request header bytes accepted; more gets 431.</summary>
    public int MaxRequestHeadersBytes { get; set; } = 32 * 1024;

    /// <summary>How long a client may take to send a request's head (Kestrel's <c>RequestHeadersTimeout</c>); then 408 and the connection is closed.</summary>
    public int RequestHeadersTimeoutSeconds { get; set; } = 30;
}

/// <summary>How StaticWeb notices a swap of the link (<c>StaticWeb:RevisionCheck</c>).</summary>
public enum RevisionCheck
{
    /// <summary>Every request reads the link once at its start.</summary>
    Request,

    /// <summary>The link is read when the sidecar's webhook announces a revision, and as a safety net.</summary>
    Webhook,
}
