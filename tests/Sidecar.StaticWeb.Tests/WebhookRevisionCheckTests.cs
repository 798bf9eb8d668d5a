using Sidecar.StaticWeb.Http;
using Sidecar.StaticWeb.Revisions;

namespace Sidecar.StaticWeb.Tests;

/// <summary>
/// With <c>StaticWeb:RevisionCheck=webhook</c> requests do not read the link: a swap is served once
/// the sidecar's webhook announces it, or at the next safety-net read, and each response is still
/// whole from one revision.
/// </summary>
[Trait("Category", "InProcess")]
public sealed class WebhookRevisionCheckTests : IAsyncLifetime
{
    private readonly SiteFixture site = new("--StaticWeb:RevisionCheck=webhook", "--StaticWeb:RevisionCheckSeconds=3600");

    public async Task InitializeAsync()
    {
        site.WriteRevision("rev1", ("index.html", "one"), ("other.txt", "other one"));
        site.WriteRevision("rev2", ("index.html", "two"), ("other.txt", "other two"));
        site.Publish("rev1");
        await site.StartAsync();
    }

    public async Task DisposeAsync() => await site.DisposeAsync();

    private async Task<(string Revision, string Body)> GetAsync(string path)
    {
        using var response = await site.Client.GetAsync(path);
        return (response.Headers.GetValues(StaticSiteHandler.RevisionHeader).Single(), await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ASwapIsServedFromTheAnnouncementOn()
    {
        Assert.Equal(("rev1", "one"), await GetAsync("/"));

        site.Publish("rev2");
        Assert.Equal(("rev1", "one"), await GetAsync("/"));
        Assert.Equal(("rev1", "other one"), await GetAsync("/other.txt"));
        var (status, _) = await site.RawAsync("POST", RevisionWebhook.Path, "Gitsync-Hash: rev2\r\nContent-Length: 0\r\n");

        Assert.Equal(200, status);
        Assert.Equal(("rev2", "two"), await GetAsync("/"));
        Assert.Equal(("rev2", "other two"), await GetAsync("/other.txt"));
    }

    [Fact]
    public async Task ARevisionDeletedBeforeTheAnnouncementIsNoticedByTheRequestThatFindsItGone()
    {
        Assert.Equal(("rev1", "one"), await GetAsync("/"));

        site.Publish("rev2");
        Directory.Delete(site.Root.Combine(".worktrees", "rev1"), recursive: true);

        // Not in memory yet, so it is looked up on disk, where rev1 is gone: the link is read again.
        Assert.Equal(("rev2", "other two"), await GetAsync("/other.txt"));
        Assert.Equal(("rev2", "two"), await GetAsync("/"));
    }

    [Fact]
    public async Task WithoutAnAnnouncementTheSafetyNetReadsTheLink()
    {
        await using var safetyNet = new SiteFixture("--StaticWeb:RevisionCheck=webhook", "--StaticWeb:RevisionCheckSeconds=1");
        safetyNet.WriteRevision("rev1", ("index.html", "one"));
        safetyNet.WriteRevision("rev2", ("index.html", "two"));
        safetyNet.Publish("rev1");
        await safetyNet.StartAsync();
        Assert.Equal("one", await safetyNet.Client.GetStringAsync("/"));

        safetyNet.Publish("rev2");

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (await safetyNet.Client.GetStringAsync("/") != "two")
        {
            Assert.True(DateTime.UtcNow < deadline, "the swap was not noticed within 10 s with a 1 s safety net");
            await Task.Delay(100);
        }
    }
}
