using System.Net;

namespace Sidecar.StaticWeb.Tests;

/// <summary>The server on a real Kestrel, serving a temp folder behind a symlink.</summary>
[Trait("Category", "InProcess")]
public sealed class StaticSiteTests : IAsyncLifetime
{
    private readonly SiteFixture site = new();

    public async Task InitializeAsync()
    {
        site.WriteRevision("rev1",
            ("index.html", "<h1>home one</h1>"),
            ("style.css", "body{}"),
            ("docs/index.html", "<h1>docs</h1>"),
            ("docs/guide.txt", "guide"),
            (".env", "SECRET=1"),
            ("a/.env", "SECRET=2"),
            (".git/config", "[core]"),
            ("data.unknownext", "bytes"));
        site.WriteRevision("rev2", ("index.html", "<h1>home two</h1>"));
        site.Publish("rev1");
        await site.StartAsync();
    }

    public async Task DisposeAsync() => await site.DisposeAsync();

    [Fact]
    public async Task ServesFilesWithTheirTypeAndTheRevision()
    {
        using var response = await site.Client.GetAsync("/style.css");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("body{}", await response.Content.ReadAsStringAsync());
        Assert.Equal("text/css", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("rev1", Assert.Single(response.Headers.GetValues("X-Content-Revision")));
        Assert.NotNull(response.Headers.ETag);
    }

    [Fact]
    public async Task ServesTheIndexForADirectoryAndRedirectsWithoutTheSlash()
    {
        Assert.Equal("<h1>home one</h1>", await site.Client.GetStringAsync("/"));
        Assert.Equal("<h1>docs</h1>", await site.Client.GetStringAsync("/docs/"));

        using var noRedirect = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = site.Client.BaseAddress };
        using var response = await noRedirect.GetAsync("/docs?x=1");
        Assert.Equal(HttpStatusCode.MovedPermanently, response.StatusCode);
        Assert.Equal("/docs/?x=1", response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task ADirectoryRedirectNeverLeavesTheSite()
    {
        Directory.CreateDirectory(site.Root.Combine(".worktrees", "rev1", "evil.example"));

        var (status, response) = await site.RawAsync("GET", "//evil.example");

        Assert.Equal(301, status);
        Assert.Contains("Location: /evil.example/\r\n", response);
    }

    [Fact]
    public async Task AMissingFileIsAPlainNotFound()
    {
        using var response = await site.Client.GetAsync("/nope.html");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("Not Found\n", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/.git/config")]
    [InlineData("/.git/")]
    [InlineData("/.env")]
    [InlineData("/a/.env")]
    [InlineData("/%2egit/config")]
    [InlineData("/a/%2Eenv")]
    [InlineData("/docs/../.env")]
    public async Task NothingUnderADotSegmentIsServed(string path)
    {
        var (status, body) = await RawGetAsync(path);

        Assert.Equal(404, status);
        Assert.DoesNotContain("SECRET", body);
        Assert.DoesNotContain("[core]", body);
    }

    [Theory]
    [InlineData("/..%2f..%2fetc/passwd")]
    [InlineData("/docs%5c..%5c.env")]
    [InlineData("/../../etc/passwd")]
    public async Task NoPathLeavesTheRoot(string path)
    {
        var (status, body) = await RawGetAsync(path);

        Assert.InRange(status, 400, 404);
        Assert.DoesNotContain("root:", body);
    }

    [Fact]
    public async Task ASymlinkThatLeavesTheRevisionIsNotFollowed()
    {
        var outside = site.Root.Combine("outside.txt");
        await File.WriteAllTextAsync(outside, "outside");
        File.CreateSymbolicLink(site.Root.Combine(".worktrees", "rev1", "escape.txt"), outside);

        using var response = await site.Client.GetAsync("/escape.txt");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task ASwappedLinkIsSeenByTheNextRequest()
    {
        Assert.Equal("<h1>home one</h1>", await site.Client.GetStringAsync("/"));

        site.Publish("rev2");

        using var response = await site.Client.GetAsync("/");
        Assert.Equal("<h1>home two</h1>", await response.Content.ReadAsStringAsync());
        Assert.Equal("rev2", Assert.Single(response.Headers.GetValues("X-Content-Revision")));
    }

    [Fact]
    public async Task OtherMethodsGet405WithAllow()
    {
        using var response = await site.Client.PostAsync("/", new StringContent("x"));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal("GET, HEAD", response.Content.Headers.Allow.Count > 0
            ? string.Join(", ", response.Content.Headers.Allow)
            : string.Join(", ", response.Headers.GetValues("Allow")));
    }

    [Fact]
    public async Task HeadHasTheHeadersAndNoBody()
    {
        using var response = await site.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/style.css"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(6, response.Content.Headers.ContentLength);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task AnUnchangedFileAnswers304ToItsETag()
    {
        using var first = await site.Client.GetAsync("/style.css");
        var request = new HttpRequestMessage(HttpMethod.Get, "/style.css");
        request.Headers.IfNoneMatch.Add(first.Headers.ETag!);

        using var second = await site.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
    }

    [Fact]
    public async Task ARevisionRemovedUnderTheServerIs503NotAnError()
    {
        await using var bare = new SiteFixture("--StaticWeb:CacheMaxFileBytes=0");
        bare.WriteRevision("rev1", ("big.txt", new string('x', 10_000)));
        bare.Publish("rev1");
        await bare.StartAsync();
        Assert.Equal(10_000, (await bare.Client.GetStringAsync("/big.txt")).Length);

        // The folder the link names goes away while the link stays: the cached entry's file is gone.
        Directory.Move(bare.Root.Combine(".worktrees", "rev1"), bare.Root.Combine(".worktrees", "removed"));

        using var response = await bare.Client.GetAsync("/big.txt");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("1", Assert.Single(response.Headers.GetValues("Retry-After")));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await bare.Client.GetAsync("/health")).StatusCode);
    }

    [Fact]
    public async Task HealthIsUnhealthyUntilTheLinkExists()
    {
        Assert.Equal(HttpStatusCode.OK, (await site.Client.GetAsync("/health")).StatusCode);

        File.Delete(site.LinkPath);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await site.Client.GetAsync("/health")).StatusCode);
        using var page = await site.Client.GetAsync("/");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, page.StatusCode);
    }

    private async Task<(int Status, string Body)> RawGetAsync(string path) => await site.RawAsync("GET", path);
}
