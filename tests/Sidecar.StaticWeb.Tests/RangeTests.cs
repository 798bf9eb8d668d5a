using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;

namespace Sidecar.StaticWeb.Tests;

/// <summary>Range requests: single and multiple ranges, 416, If-Range; from memory and from disk.</summary>
[Trait("Category", "InProcess")]
public sealed class RangeTests : IAsyncLifetime
{
    // Bodies up to 1 KB are kept in memory; the large file is sent from disk.
    private readonly SiteFixture site = new("--StaticWeb:CacheMaxFileBytes=1024");
    private static readonly string Small = "0123456789abcdefghij";
    private static readonly string Large = string.Concat(Enumerable.Range(0, 2000).Select(i => $"{i:D5}\n"));

    public async Task InitializeAsync()
    {
        site.WriteRevision("rev1", ("small.txt", Small), ("large.txt", Large));
        site.Publish("rev1");
        await site.StartAsync();
    }

    public async Task DisposeAsync() => await site.DisposeAsync();

    [Theory]
    [InlineData("/small.txt")]
    [InlineData("/large.txt")]
    public async Task ASingleRangeIs206WithContentRange(string path)
    {
        var content = path == "/small.txt" ? Small : Large;

        using var response = await Send(path, "bytes=2-5");
        using var suffix = await Send(path, "bytes=-3");
        using var open = await Send(path, "bytes=10-");

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal(content[2..6], await response.Content.ReadAsStringAsync());
        Assert.Equal($"bytes 2-5/{content.Length}", response.Content.Headers.ContentRange!.ToString());
        Assert.Equal(4, response.Content.Headers.ContentLength);
        Assert.Equal(content[^3..], await suffix.Content.ReadAsStringAsync());
        Assert.Equal(content[10..], await open.Content.ReadAsStringAsync());
        Assert.Equal("bytes", Assert.Single(response.Headers.AcceptRanges));
    }

    [Theory]
    [InlineData("/small.txt")]
    [InlineData("/large.txt")]
    public async Task MultipleRangesAreMultipartByteranges(string path)
    {
        var content = path == "/small.txt" ? Small : Large;

        using var response = await Send(path, "bytes=0-1, 5-7, -2");

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        var type = response.Content.Headers.ContentType!;
        Assert.Equal("multipart/byteranges", type.MediaType);
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(body.Length, response.Content.Headers.ContentLength);
        var reader = new MultipartReader(type.Parameters.Single(p => p.Name == "boundary").Value!, new MemoryStream(body));
        var parts = new List<(string Range, string Body)>();
        while (await reader.ReadNextSectionAsync() is { } section)
        {
            Assert.Equal("text/plain; charset=utf-8", section.ContentType);
            parts.Add((section.Headers!["Content-Range"].ToString(), await new StreamReader(section.Body).ReadToEndAsync()));
        }
        Assert.Equal(
            [($"bytes 0-1/{content.Length}", content[..2]), ($"bytes 5-7/{content.Length}", content[5..8]), ($"bytes {content.Length - 2}-{content.Length - 1}/{content.Length}", content[^2..])],
            parts);
    }

    [Fact]
    public async Task OverlappingRangesAreMergedSoNoByteIsSentTwice()
    {
        using var response = await Send("/small.txt", "bytes=0-5, 3-8");

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal("bytes 0-8/20", response.Content.Headers.ContentRange!.ToString());
        Assert.Equal(Small[..9], await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AnUnsatisfiableRangeIs416WithTheLength()
    {
        using var response = await Send("/small.txt", "bytes=100-200");

        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, response.StatusCode);
        Assert.Equal("bytes */20", response.Content.Headers.ContentRange!.ToString());
    }

    [Theory]
    [InlineData("bytes=5-2")]
    [InlineData("items=0-1")]
    [InlineData("bytes=x-y")]
    public async Task AMalformedRangeIsIgnored(string range)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/small.txt");
        request.Headers.TryAddWithoutValidation("Range", range);

        using var response = await site.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Small, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task IfRangeHonoursTheRangeOnlyForTheCurrentRepresentation()
    {
        using var full = await site.Client.GetAsync("/small.txt");
        var etag = full.Headers.ETag!;

        using var same = await Send("/small.txt", "bytes=0-1", r => r.Headers.IfRange = new RangeConditionHeaderValue(etag));
        using var other = await Send("/small.txt", "bytes=0-1", r => r.Headers.IfRange = new RangeConditionHeaderValue(new EntityTagHeaderValue("\"old\"")));
        using var date = await Send("/small.txt", "bytes=0-1", r => r.Headers.IfRange = new RangeConditionHeaderValue(full.Content.Headers.LastModified!.Value));

        Assert.Equal(HttpStatusCode.PartialContent, same.StatusCode);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.Equal(Small, await other.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.PartialContent, date.StatusCode);
    }

    [Fact]
    public async Task TooManyRangesAreIgnored()
    {
        var ranges = string.Join(",", Enumerable.Range(0, 40).Select(i => $"{i}-{i}"));

        using var response = await Send("/small.txt", "bytes=" + ranges);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private async Task<HttpResponseMessage> Send(string path, string range, Action<HttpRequestMessage>? configure = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("Range", range);
        configure?.Invoke(request);
        return await site.Client.SendAsync(request);
    }
}
