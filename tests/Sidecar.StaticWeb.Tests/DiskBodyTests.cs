using System.Net;
using System.Net.Http.Headers;

namespace Sidecar.StaticWeb.Tests;

/// <summary>Bodies sent from the revision's folder (above StaticWeb:CacheMaxFileBytes), read into the response a piece at a time.</summary>
[Trait("Category", "InProcess")]
public sealed class DiskBodyTests : IAsyncLifetime
{
    // Not a whole number of 32 KiB pieces, so the last piece is short.
    private const int Size = 5 * 32 * 1024 + 1234;
    private static readonly byte[] Content = [.. Enumerable.Range(0, Size).Select(i => (byte)(i * 31 % 251))];
    private readonly SiteFixture site = new("--StaticWeb:CacheMaxFileBytes=1024");

    public async Task InitializeAsync()
    {
        site.WriteRevisionBytes("rev1", ("data.bin", Content), ("shrinks.bin", Content));
        site.Publish("rev1");
        await site.StartAsync();
    }

    public async Task DisposeAsync() => await site.DisposeAsync();

    [Fact]
    public async Task AFileOfSeveralPiecesArrivesWhole()
    {
        using var response = await site.Client.GetAsync("/data.bin");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Size, response.Content.Headers.ContentLength);
        Assert.Equal(Content, await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData(32 * 1024 - 10, 32 * 1024 + 9)]
    [InlineData(0, 3 * 32 * 1024)]
    [InlineData(Size - 1300, Size - 1)]
    public async Task ARangeAcrossPiecesIsTheBytesAtItsOffsets(int first, int last)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/data.bin");
        request.Headers.Range = new RangeHeaderValue(first, last);

        using var response = await site.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal(Content[first..(last + 1)], await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task AFileChangedInPlaceToFewerBytesEndsTheResponseInsteadOfPaddingIt()
    {
        // The first request caches the file's length; a published revision must not change, but if it does,
        // the response must not claim bytes that are not there.
        using (var first = await site.Client.GetAsync("/shrinks.bin"))
        {
            Assert.Equal(Size, (await first.Content.ReadAsByteArrayAsync()).Length);
        }
        var path = Path.Combine(site.Root.Combine(".worktrees", "rev1"), "shrinks.bin");
        await File.WriteAllBytesAsync(path, Content[..(40 * 1024)]);

        var truncated = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            using var response = await site.Client.GetAsync("/shrinks.bin");
            await response.Content.ReadAsByteArrayAsync();
        });

        Assert.True(truncated is HttpRequestException or IOException, truncated.ToString());
    }
}
