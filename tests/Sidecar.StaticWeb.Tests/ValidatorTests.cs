using System.Net;
using System.Net.Http.Headers;

namespace Sidecar.StaticWeb.Tests;

/// <summary>Strong content-hash ETags and the conditional headers: If-None-Match, If-Modified-Since, If-Match, If-Unmodified-Since.</summary>
[Trait("Category", "InProcess")]
public sealed class ValidatorTests : IAsyncLifetime
{
    private readonly SiteFixture site = new();

    public async Task InitializeAsync()
    {
        site.WriteRevision("rev1", ("same.css", "body{color:red}"), ("changed.css", "a{}"));
        site.WriteRevision("rev2", ("same.css", "body{color:red}"), ("changed.css", "b{}"));
        // The second snapshot's copy of the unchanged file is newer on disk.
        File.SetLastWriteTimeUtc(site.Root.Combine(".worktrees", "rev2", "same.css"), DateTime.UtcNow.AddHours(1));
        site.Publish("rev1");
        await site.StartAsync();
    }

    public async Task DisposeAsync() => await site.DisposeAsync();

    [Fact]
    public async Task TheETagIsStrongAndFollowsTheContentNotTheMtime()
    {
        var sameBefore = await ETagOf("/same.css");
        var changedBefore = await ETagOf("/changed.css");
        site.Publish("rev2");
        var sameAfter = await ETagOf("/same.css");
        var changedAfter = await ETagOf("/changed.css");

        Assert.False(sameBefore.IsWeak);
        Assert.Equal(sameBefore, sameAfter);
        Assert.NotEqual(changedBefore, changedAfter);
        Assert.NotEqual(sameBefore, changedBefore);
    }

    [Fact]
    public async Task IfNoneMatchGives304EvenAcrossARevisionSwitchWhenTheBytesAreTheSame()
    {
        var etag = await ETagOf("/same.css");
        site.Publish("rev2");

        using var response = await Send("/same.css", r => r.Headers.IfNoneMatch.Add(etag));

        Assert.Equal(HttpStatusCode.NotModified, response.StatusCode);
        Assert.Equal(etag, response.Headers.ETag);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task IfNoneMatchWithAnotherTagOrAWeakFormGivesTheRightAnswer()
    {
        var etag = await ETagOf("/same.css");

        using var other = await Send("/same.css", r => r.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"other\"")));
        using var weak = await Send("/same.css", r => r.Headers.IfNoneMatch.Add(new EntityTagHeaderValue(etag.Tag, isWeak: true)));
        using var star = await Send("/same.css", r => r.Headers.TryAddWithoutValidation("If-None-Match", "*"));

        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.Equal(HttpStatusCode.NotModified, weak.StatusCode);
        Assert.Equal(HttpStatusCode.NotModified, star.StatusCode);
    }

    [Fact]
    public async Task IfModifiedSinceGives304UnlessTheFileIsNewer()
    {
        using var first = await site.Client.GetAsync("/same.css");
        var lastModified = first.Content.Headers.LastModified!.Value;

        using var same = await Send("/same.css", r => r.Headers.IfModifiedSince = lastModified);
        using var older = await Send("/same.css", r => r.Headers.IfModifiedSince = lastModified.AddSeconds(-10));
        // If-None-Match wins over If-Modified-Since.
        using var both = await Send("/same.css", r =>
        {
            r.Headers.IfModifiedSince = lastModified;
            r.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"other\""));
        });

        Assert.Equal(HttpStatusCode.NotModified, same.StatusCode);
        Assert.Equal(HttpStatusCode.OK, older.StatusCode);
        Assert.Equal(HttpStatusCode.OK, both.StatusCode);
    }

    [Fact]
    public async Task IfMatchAndIfUnmodifiedSinceGive412WhenTheyFail()
    {
        var etag = await ETagOf("/same.css");
        using var first = await site.Client.GetAsync("/same.css");
        var lastModified = first.Content.Headers.LastModified!.Value;

        using var matching = await Send("/same.css", r => r.Headers.IfMatch.Add(etag));
        using var wrong = await Send("/same.css", r => r.Headers.IfMatch.Add(new EntityTagHeaderValue("\"other\"")));
        using var weak = await Send("/same.css", r => r.Headers.IfMatch.Add(new EntityTagHeaderValue(etag.Tag, isWeak: true)));
        using var unmodified = await Send("/same.css", r => r.Headers.IfUnmodifiedSince = lastModified);
        using var modified = await Send("/same.css", r => r.Headers.IfUnmodifiedSince = lastModified.AddSeconds(-10));

        Assert.Equal(HttpStatusCode.OK, matching.StatusCode);
        Assert.Equal(HttpStatusCode.PreconditionFailed, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.PreconditionFailed, weak.StatusCode);
        Assert.Equal(HttpStatusCode.OK, unmodified.StatusCode);
        Assert.Equal(HttpStatusCode.PreconditionFailed, modified.StatusCode);
    }

    private async Task<EntityTagHeaderValue> ETagOf(string path)
    {
        using var response = await site.Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response.Headers.ETag!;
    }

    private async Task<HttpResponseMessage> Send(string path, Action<HttpRequestMessage> configure)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        configure(request);
        return await site.Client.SendAsync(request);
    }
}
