using System.Collections.Concurrent;
using System.Diagnostics;

namespace Sidecar.StaticWeb.Tests;

/// <summary>A request the fast path answers is traced as ASP.NET Core would: a server span, child of the caller's trace context.</summary>
[Collection(ActivityListenerCollection.Name)]
public sealed class FastPathTraceTests : IAsyncLifetime
{
    private readonly SiteFixture site = new();

    public async Task InitializeAsync()
    {
        site.WriteRevision("rev1", ("index.html", "<p>traced</p>"));
        site.Publish("rev1");
        await site.StartAsync();
    }

    public async Task DisposeAsync() => await site.DisposeAsync();

    [Fact]
    public async Task AFastResponseIsAServerSpanUnderTheCallersTrace()
    {
        const string Request = "GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n";
        await using (var warm = await RawConnection.OpenAsync(site.Client.BaseAddress!))
        {
            await warm.SendAsync(Request);
            await warm.SendAsync(Request);
        }
        var traceId = ActivityTraceId.CreateRandom();
        var parentId = ActivitySpanId.CreateRandom();
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Sidecar.StaticWeb",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity => { if (activity.TraceId == traceId) spans.Enqueue(activity); },
        };
        ActivitySource.AddActivityListener(listener);
        using var counted = new FastResponseCounter(site.Services);
        await using var connection = await RawConnection.OpenAsync(site.Client.BaseAddress!);

        var response = await connection.SendAsync(
            $"GET /index.html HTTP/1.1\r\nHost: localhost\r\ntraceparent: 00-{traceId}-{parentId}-01\r\ntracestate: vendor=1\r\n\r\n");

        Assert.Equal(200, response.Status);
        Assert.Equal(1, counted.Total);
        var span = Assert.Single(spans);
        Assert.Equal(ActivityKind.Server, span.Kind);
        Assert.Equal("GET", span.DisplayName);
        Assert.Equal(parentId, span.ParentSpanId);
        Assert.Equal("vendor=1", span.TraceStateString);
        Assert.Equal("/index.html", span.GetTagItem("url.path"));
        Assert.Equal(200, span.GetTagItem("http.response.status_code"));
        Assert.Equal("rev1", span.GetTagItem("staticweb.revision"));
        Assert.Equal(true, span.GetTagItem("staticweb.fast_path"));
    }
}
