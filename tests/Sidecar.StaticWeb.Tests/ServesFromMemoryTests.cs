using Microsoft.AspNetCore.Http;
using Sidecar.StaticWeb.Compression;
using Sidecar.StaticWeb.Files;
using Sidecar.StaticWeb.Http;

namespace Sidecar.StaticWeb.Tests;

/// <summary>What may be answered on the socket thread: only responses whose bytes are already in memory.</summary>
[Trait("Category", "Unit")]
public sealed class ServesFromMemoryTests
{
    private static FileEntry Entry(byte[]? body, Lazy<Representation?>? brotli = null) => new()
    {
        Identity = new Representation("\"tag\"", 3, body, "/site/a.txt", null),
        ContentType = "text/plain",
        CacheControl = "no-cache",
        LastModified = DateTimeOffset.UnixEpoch,
        LastModifiedHeader = "Thu, 01 Jan 1970 00:00:00 GMT",
        Brotli = brotli,
    };

    private static HttpContext Request(string? acceptEncoding)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        if (acceptEncoding is not null)
        {
            context.Request.Headers.AcceptEncoding = acceptEncoding;
        }
        return context;
    }

    [Fact]
    public void ABodyInMemoryIsServedFromMemoryAndOneOnDiskIsNot()
    {
        Assert.True(FileResponseWriter.ServesFromMemory(Request(null), Entry([1, 2, 3])));
        Assert.False(FileResponseWriter.ServesFromMemory(Request(null), Entry(null)));
    }

    [Fact]
    public void ACodedFormNotBuiltYetWouldBeCompressedSoItIsNotFromMemory()
    {
        var built = false;
        var brotli = new Lazy<Representation?>(() => { built = true; return new Representation("\"tag-br\"", 2, [9, 9], null, "br"); });
        var entry = Entry([1, 2, 3], brotli);

        Assert.True(FileResponseWriter.ServesFromMemory(Request(null), entry));
        Assert.True(FileResponseWriter.ServesFromMemory(Request("gzip"), entry));
        Assert.False(FileResponseWriter.ServesFromMemory(Request("br"), entry));
        Assert.False(built);

        _ = brotli.Value;

        Assert.True(FileResponseWriter.ServesFromMemory(Request("br"), entry));
    }

    [Fact]
    public void OnlyTheFormThatWouldBeSentCounts()
    {
        var brotli = new Lazy<Representation?>(new Representation("\"tag-br\"", 2, [9, 9], null, "br"));
        var gzipBuilt = false;
        var gzip = new Lazy<Representation?>(() => { gzipBuilt = true; return null; });
        var entry = new FileEntry
        {
            Identity = new Representation("\"tag\"", 3, [1, 2, 3], "/site/a.txt", null),
            ContentType = "text/plain",
            CacheControl = "no-cache",
            LastModified = DateTimeOffset.UnixEpoch,
            LastModifiedHeader = "Thu, 01 Jan 1970 00:00:00 GMT",
            Brotli = brotli,
            Gzip = gzip,
        };

        // Brotli wins, so the gzip form that was never built does not matter...
        Assert.True(FileResponseWriter.ServesFromMemory(Request("gzip, br"), entry));
        // ...but for a gzip-only client it would be built by this request.
        Assert.False(FileResponseWriter.ServesFromMemory(Request("gzip"), entry));
        _ = gzip.Value;
        // Built, and not worth sending: the plain bytes in memory are sent.
        Assert.True(FileResponseWriter.ServesFromMemory(Request("gzip"), entry));
        Assert.True(gzipBuilt);
    }

    [Fact]
    public void APrecompressedSiblingOnDiskIsNotFromMemory()
    {
        var sibling = new Lazy<Representation?>(new Representation("\"sibling\"", 2, null, "/site/a.txt.br", "br"));

        Assert.False(FileResponseWriter.ServesFromMemory(Request("gzip, br"), Entry([1, 2, 3], sibling)));
        Assert.True(FileResponseWriter.ServesFromMemory(Request("identity"), Entry([1, 2, 3], sibling)));
    }
}
