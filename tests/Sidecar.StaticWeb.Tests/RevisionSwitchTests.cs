using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Sidecar.StaticWeb.Revisions;

namespace Sidecar.StaticWeb.Tests;

/// <summary>The revision webhook and per-request switch detection: traced, logged, and the retired revision's cache dropped.</summary>
[Collection(ActivityListenerCollection.Name)]
[Trait("Category", "InProcess")]
public sealed class RevisionSwitchTests : IAsyncLifetime
{
    private const string RevisionA = "0123456789abcdef0123456789abcdef01234567";
    private const string RevisionB = "89abcdef0123456789abcdef0123456789abcdef";
    private readonly SiteFixture site = new("--StaticWeb:RevisionWebhookSecret=s3cret");

    public async Task InitializeAsync()
    {
        site.WriteRevision(RevisionA, ("index.html", "a"), ("style.css", "a{}"));
        site.WriteRevision(RevisionB, ("index.html", "b"), ("style.css", "b{}"));
        site.Publish(RevisionA);
        await site.StartAsync();
    }

    public async Task DisposeAsync() => await site.DisposeAsync();

    private RevisionTracker Tracker => site.Services.GetRequiredService<RevisionTracker>();

    [Fact]
    public async Task TheWebhookSwitchesAndDropsTheRetiredRevisionsCache()
    {
        await site.Client.GetStringAsync("/style.css");
        var retired = Tracker.Current;
        Assert.Equal(RevisionA, retired.Revision);
        Assert.True(retired.Count > 0);

        site.Publish(RevisionB);
        using var response = await Announce(RevisionB);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"serving {RevisionB}\n", await response.Content.ReadAsStringAsync());
        Assert.True(retired.IsRetired);
        Assert.Equal(0, retired.Count);
        Assert.Equal(RevisionB, Tracker.Current.Revision);
        Assert.Equal("b{}", await site.Client.GetStringAsync("/style.css"));
    }

    [Fact]
    public async Task TheWebhookSpanJoinsTheSidecarsTrace()
    {
        var traceId = ActivityTraceId.CreateRandom();
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Sidecar.StaticWeb" or "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity => { if (activity.TraceId == traceId) spans.Enqueue(activity); },
        };
        ActivitySource.AddActivityListener(listener);

        site.Publish(RevisionB);
        // Sent raw: HttpClient would put its own traceparent on the request.
        var (status, _) = await site.RawAsync("POST", "/_sidecar/revision",
            $"Gitsync-Hash: {RevisionB}\r\ntraceparent: 00-{traceId}-{ActivitySpanId.CreateRandom()}-01\r\nContent-Length: 0\r\n");

        Assert.Equal(200, status);
        var span = Assert.Single(spans, s => s.DisplayName == "revision switch");
        Assert.Equal("Sidecar.StaticWeb", span.Source.Name);
        Assert.Equal(RevisionB, span.GetTagItem("staticweb.revision.announced"));
        Assert.Equal(RevisionB, span.GetTagItem("staticweb.revision"));
        Assert.Equal("webhook", span.GetTagItem("staticweb.switch.source"));
    }

    [Fact]
    public async Task ARequestNoticesASwapWithoutTheWebhook()
    {
        await site.Client.GetStringAsync("/");
        var retired = Tracker.Current;

        site.Publish(RevisionB);

        Assert.Equal("b", await site.Client.GetStringAsync("/"));
        Assert.True(retired.IsRetired);
        Assert.Equal(RevisionB, Tracker.Current.Revision);
    }

    [Fact]
    public async Task AnAnnouncementTheLinkDoesNotBackIs409()
    {
        using var response = await Announce(RevisionB);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains($"the link names {RevisionA}", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("")]
    [InlineData("../../etc")]
    [InlineData(".hidden")]
    public async Task ABadHashIs400NamingIt(string hash)
    {
        using var response = await Announce(hash);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Gitsync-Hash", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AWrongSecretIsRefusedEvenFromLoopback()
    {
        using var bearer = await Announce(RevisionA, r => r.Headers.TryAddWithoutValidation("Authorization", "Bearer wrong"));
        using var right = await Announce(RevisionA, r => r.Headers.TryAddWithoutValidation("Authorization", "Bearer s3cret"));

        Assert.Equal(HttpStatusCode.Forbidden, bearer.StatusCode);
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
    }

    [Theory]
    [InlineData("127.0.0.1", null, true)]
    [InlineData("::1", null, true)]
    [InlineData("10.1.2.3", null, false)]
    [InlineData("10.1.2.3", "Bearer s3cret", true)]
    [InlineData("10.1.2.3", "Bearer s3cre", false)]
    // A secret in the URL would be logged on the way: it is not accepted.
    [InlineData("10.1.2.3", "?token=s3cret", false)]
    public void OnlyLoopbackOrTheSecretMayAnnounce(string remote, string? credential, bool allowed)
    {
        var webhook = site.Services.GetRequiredService<RevisionWebhook>();
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(remote);
        if (credential?.StartsWith('?') == true)
        {
            context.Request.QueryString = new QueryString(credential);
        }
        else if (credential is not null)
        {
            context.Request.Headers.Authorization = credential;
        }

        Assert.Equal(allowed, webhook.IsAllowed(context));
    }

    private async Task<HttpResponseMessage> Announce(string hash, Action<HttpRequestMessage>? configure = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/_sidecar/revision");
        request.Headers.TryAddWithoutValidation("Gitsync-Hash", hash);
        configure?.Invoke(request);
        return await site.Client.SendAsync(request);
    }
}
