using System.IO.Compression;
using System.Net;
using System.Text;

namespace Sidecar.StaticWeb.Tests;

/// <summary>Precompressed siblings, compression once per revision, and Vary: Accept-Encoding.</summary>
[Trait("Category", "InProcess")]
public sealed class CompressionTests : IAsyncLifetime
{
    private readonly SiteFixture site = new();
    private static readonly string Script = string.Concat(Enumerable.Repeat("console.log('hello from the script');\n", 200));
    private static readonly string Styles = string.Concat(Enumerable.Repeat("body { margin: 0; padding: 0; }\n", 200));
    // Larger than StaticWeb:CacheMaxFileBytes (256 KiB): its body stays on disk and is compressed from the file.
    private static readonly string Large = string.Concat(Enumerable.Range(0, 20_000).Select(i => $"line {i % 97} of the large file\n"));
    // Hex digits compress only to about half: its coded forms (over 256 KiB) are sent from memory in several pieces.
    private static readonly string Hex = RandomHex(400_000);
    private static readonly byte[] Image = Enumerable.Range(0, 4000).Select(i => (byte)(i * 7919 % 251)).ToArray();

    public async Task InitializeAsync()
    {
        site.WriteRevision("rev1", ("app.js", Script), ("styles.css", Styles), ("tiny.txt", "hi"), ("large.txt", Large), ("hex.txt", Hex));
        site.WriteRevisionBytes("rev1",
            ("styles.css.br", Encoding.UTF8.GetBytes("precompressed-br-marker")),
            ("styles.css.gz", Gzip(Encoding.UTF8.GetBytes(Styles))),
            ("picture.png", Image));
        site.Publish("rev1");
        await site.StartAsync();
    }

    public async Task DisposeAsync() => await site.DisposeAsync();

    [Theory]
    [InlineData("br", "br")]
    [InlineData("gzip", "gzip")]
    [InlineData("gzip, deflate, br", "br")]
    [InlineData("br;q=0, gzip", "gzip")]
    [InlineData("*", "br")]
    public async Task ACompressibleFileIsCompressedOnceWithTheAcceptedCoding(string accept, string expected)
    {
        using var first = await Get("/app.js", accept);
        using var second = await Get("/app.js", accept);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(expected, Assert.Single(first.Content.Headers.ContentEncoding));
        Assert.Contains("Accept-Encoding", first.Headers.Vary);
        var body = await first.Content.ReadAsByteArrayAsync();
        Assert.True(body.Length < Script.Length);
        Assert.Equal(Script, Decode(body, expected));
        Assert.Equal(body, await second.Content.ReadAsByteArrayAsync());
        Assert.Equal(first.Headers.ETag, second.Headers.ETag);
    }

    [Theory]
    [InlineData("br")]
    [InlineData("gzip")]
    public async Task AFileLargerThanTheMemoryLimitIsCompressedFromDisk(string coding)
    {
        Assert.True(Large.Length > 256 * 1024);
        using var compressed = await Get("/large.txt", coding);
        using var identity = await Get("/large.txt", null);

        Assert.Equal(coding, Assert.Single(compressed.Content.Headers.ContentEncoding));
        var body = await compressed.Content.ReadAsByteArrayAsync();
        Assert.True(body.Length < Large.Length / 4);
        Assert.Equal(Large, Decode(body, coding));
        Assert.Equal(Large, await identity.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("br")]
    [InlineData("gzip")]
    public async Task ACodedFormLargerThanOneWriteArrivesWhole(string coding)
    {
        using var compressed = await Get("/hex.txt", coding);

        var body = await compressed.Content.ReadAsByteArrayAsync();
        Assert.Equal(coding, Assert.Single(compressed.Content.Headers.ContentEncoding));
        Assert.True(body.Length > 256 * 1024, $"{body.Length} bytes");
        Assert.Equal(Hex, Decode(body, coding));
    }

    private static string RandomHex(int bytes)
    {
        var random = new byte[bytes];
        new Random(7).NextBytes(random);
        return Convert.ToHexString(random);
    }

    [Fact]
    public async Task EachCodingHasItsOwnStrongETag()
    {
        using var identity = await Get("/app.js", null);
        using var brotli = await Get("/app.js", "br");
        using var gzip = await Get("/app.js", "gzip");

        Assert.Empty(identity.Content.Headers.ContentEncoding);
        Assert.Contains("Accept-Encoding", identity.Headers.Vary);
        Assert.Equal(Script, await identity.Content.ReadAsStringAsync());
        Assert.Equal(3, new[] { identity.Headers.ETag!.Tag, brotli.Headers.ETag!.Tag, gzip.Headers.ETag!.Tag }.Distinct().Count());
    }

    [Fact]
    public async Task APrecompressedSiblingIsServedAsItIs()
    {
        using var brotli = await Get("/styles.css", "br");
        using var gzip = await Get("/styles.css", "gzip");

        Assert.Equal("br", Assert.Single(brotli.Content.Headers.ContentEncoding));
        Assert.Equal("precompressed-br-marker", Encoding.UTF8.GetString(await brotli.Content.ReadAsByteArrayAsync()));
        Assert.Equal("text/css", brotli.Content.Headers.ContentType!.MediaType);
        Assert.Equal("gzip", Assert.Single(gzip.Content.Headers.ContentEncoding));
        Assert.Equal(Styles, Decode(await gzip.Content.ReadAsByteArrayAsync(), "gzip"));
    }

    [Fact]
    public async Task ImagesAndFilesThatDoNotShrinkAreSentAsTheyAre()
    {
        using var image = await Get("/picture.png", "br, gzip");
        using var tiny = await Get("/tiny.txt", "br, gzip");

        Assert.Empty(image.Content.Headers.ContentEncoding);
        Assert.DoesNotContain("Accept-Encoding", image.Headers.Vary);
        Assert.Equal(Image, await image.Content.ReadAsByteArrayAsync());
        Assert.Empty(tiny.Content.Headers.ContentEncoding);
        Assert.Equal("hi", await tiny.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ARangeIsServedFromTheUncompressedFile()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/app.js");
        request.Headers.TryAddWithoutValidation("Accept-Encoding", "br");
        request.Headers.TryAddWithoutValidation("Range", "bytes=0-6");

        using var response = await site.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.Equal("console", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A304NamesTheCodedRepresentation()
    {
        using var first = await Get("/app.js", "br");
        var request = new HttpRequestMessage(HttpMethod.Get, "/app.js");
        request.Headers.TryAddWithoutValidation("Accept-Encoding", "br");
        request.Headers.IfNoneMatch.Add(first.Headers.ETag!);
        var identityRequest = new HttpRequestMessage(HttpMethod.Get, "/app.js");
        identityRequest.Headers.IfNoneMatch.Add(first.Headers.ETag!);

        using var notModified = await site.Client.SendAsync(request);
        using var identity = await site.Client.SendAsync(identityRequest);

        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Equal(HttpStatusCode.OK, identity.StatusCode);
    }

    private async Task<HttpResponseMessage> Get(string path, string? acceptEncoding)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (acceptEncoding is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept-Encoding", acceptEncoding);
        }
        return await site.Client.SendAsync(request);
    }

    private static byte[] Gzip(byte[] content)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal))
        {
            gzip.Write(content);
        }
        return output.ToArray();
    }

    private static string Decode(byte[] body, string coding)
    {
        using Stream decoder = coding == "br"
            ? new BrotliStream(new MemoryStream(body), CompressionMode.Decompress)
            : new GZipStream(new MemoryStream(body), CompressionMode.Decompress);
        using var reader = new StreamReader(decoder);
        return reader.ReadToEnd();
    }
}
