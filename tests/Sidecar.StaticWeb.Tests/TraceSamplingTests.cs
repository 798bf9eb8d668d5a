using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Trace;
using Sidecar.StaticWeb.Settings;
using Sidecar.StaticWeb.Telemetry;

namespace Sidecar.StaticWeb.Tests;

/// <summary>Which spans the server records: a share of requests, the caller's decision, and every revision switch.</summary>
[Trait("Category", "Unit")]
public sealed class TraceSamplingTests
{
    private static readonly ActivityContext NoParent = default;

    private static SamplingDecision Decide(double ratio, ActivityContext parent, string name, ActivityKind kind) =>
        new StaticWebSampler(ratio).ShouldSample(new SamplingParameters(parent, ActivityTraceId.CreateRandom(), name, kind)).Decision;

    private static ActivityContext Parent(bool sampled) =>
        new(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), sampled ? ActivityTraceFlags.Recorded : ActivityTraceFlags.None, isRemote: true);

    [Fact]
    public void ARequestWithoutACallersDecisionFollowsTheRatio()
    {
        Assert.Equal(SamplingDecision.Drop, Decide(0, NoParent, "GET", ActivityKind.Server));
        Assert.Equal(SamplingDecision.RecordAndSample, Decide(1, NoParent, "GET", ActivityKind.Server));
    }

    [Fact]
    public void TheRatioSamplesAboutThatShareOfTraces()
    {
        var sampler = new StaticWebSampler(0.25);
        var recorded = Enumerable.Range(0, 4000).Count(_ =>
            sampler.ShouldSample(new SamplingParameters(NoParent, ActivityTraceId.CreateRandom(), "GET", ActivityKind.Server)).Decision
            == SamplingDecision.RecordAndSample);

        Assert.InRange(recorded, 800, 1200);
    }

    [Fact]
    public void ACallersTraceparentDecides()
    {
        Assert.Equal(SamplingDecision.RecordAndSample, Decide(0, Parent(sampled: true), "GET", ActivityKind.Server));
        Assert.Equal(SamplingDecision.Drop, Decide(1, Parent(sampled: false), "GET", ActivityKind.Server));
    }

    [Fact]
    public void ARevisionSwitchIsAlwaysRecordedEvenInsideAnUnrecordedRequest()
    {
        Assert.Equal(SamplingDecision.RecordAndSample, Decide(0, Parent(sampled: false), StaticWebTelemetry.RevisionSwitchSpan, ActivityKind.Internal));
        Assert.Equal(SamplingDecision.RecordAndSample, Decide(0, NoParent, StaticWebTelemetry.RevisionSwitchSpan, ActivityKind.Internal));
    }

    [Theory]
    [InlineData(null, "Development", 1.0)]
    [InlineData(null, "Production", StaticWebSampler.DefaultProductionRatio)]
    [InlineData(0.5, "Development", 0.5)]
    [InlineData(0.0, "Production", 0.0)]
    public void TheDefaultRatioDependsOnTheEnvironment(double? setting, string environment, double expected)
    {
        var options = new StaticWebOptions { RequestTraceSampleRatio = setting };

        Assert.Equal(expected, StaticWebSampler.RatioFor(options, new Environment(environment)));
    }

    private sealed class Environment(string name) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;
        public string ApplicationName { get; set; } = "test";
        public string ContentRootPath { get; set; } = "/";
        public Microsoft.Extensions.FileProviders.IFileProvider ContentRootFileProvider { get; set; } = null!;
    }
}

/// <summary>The sampler as the running server uses it: what OpenTelemetry records for real requests.</summary>
[Collection(ActivityListenerCollection.Name)]
[Trait("Category", "InProcess")]
public sealed class TraceSamplingServerTests : IAsyncLifetime
{
    private const string RevisionA = "sampling-a";
    private const string RevisionB = "sampling-b";
    private readonly SiteFixture site = new("--StaticWeb:RequestTraceSampleRatio=0");
    private readonly ConcurrentQueue<Activity> recorded = new();
    private ActivityListener? listener;

    public async Task InitializeAsync()
    {
        site.WriteRevision(RevisionA, ("sampled-probe.txt", "a"));
        site.WriteRevision(RevisionB, ("sampled-probe.txt", "b"));
        site.Publish(RevisionA);
        // Asks for nothing itself, so what is recorded is what the server's sampler decided.
        listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Sidecar.StaticWeb" or "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.None,
            ActivityStopped = activity => { if (activity.Recorded) recorded.Enqueue(activity); },
        };
        ActivitySource.AddActivityListener(listener);
        await site.StartAsync();
    }

    public async Task DisposeAsync()
    {
        listener?.Dispose();
        await site.DisposeAsync();
    }

    [Fact]
    public async Task TheCallersDecisionIsFollowedAndTheSwitchIsAlwaysRecorded()
    {
        var sampled = ActivityTraceId.CreateRandom();
        var unsampled = ActivityTraceId.CreateRandom();

        var (plain, _) = await site.RawAsync("GET", "/sampled-probe.txt");
        var callerSpan = ActivitySpanId.CreateRandom();
        // ASP.NET Core reads the trace context, once, when it starts the request's activity.
        var (withSampled, _) = await site.RawAsync("GET", "/sampled-probe.txt", $"traceparent: 00-{sampled}-{callerSpan}-01\r\ntracestate: vendor=1\r\nbaggage: tenant=a\r\n");
        var (withUnsampled, _) = await site.RawAsync("GET", "/sampled-probe.txt", $"traceparent: 00-{unsampled}-{ActivitySpanId.CreateRandom()}-00\r\n");
        site.Publish(RevisionB);
        var (afterSwap, body) = await site.RawAsync("GET", "/sampled-probe.txt");

        Assert.All(new[] { plain, withSampled, withUnsampled, afterSwap }, status => Assert.Equal(200, status));
        Assert.EndsWith("\r\n\r\nb", body);
        var requests = recorded.Where(a => a.Kind == ActivityKind.Server && a.Source.Name == "Microsoft.AspNetCore"
            && (string?)a.GetTagItem("url.path") == "/sampled-probe.txt").ToList();
        var traced = Assert.Single(requests, a => a.TraceId == sampled);
        Assert.Equal(RevisionA, traced.GetTagItem(StaticWebTelemetry.RevisionTag));
        Assert.Equal(callerSpan, traced.ParentSpanId);
        Assert.Equal("vendor=1", traced.TraceStateString);
        Assert.DoesNotContain(requests, a => a.TraceId == unsampled);
        // The request without a traceparent is not asserted on: every server started by this suite
        // runs its own tracer provider in this process, and any of them may sample it at its 5%.
        var change = Assert.Single(recorded, a => a.DisplayName == StaticWebTelemetry.RevisionSwitchSpan
            && (string?)a.GetTagItem("staticweb.revision") == RevisionB);
        Assert.Equal("request", change.GetTagItem("staticweb.switch.source"));
    }

    [Fact]
    public async Task ARequestsSpanCarriesTheHttpTagsAndProbesAreLeftOut()
    {
        string Traceparent(out ActivityTraceId trace)
        {
            trace = ActivityTraceId.CreateRandom();
            return $"traceparent: 00-{trace}-{ActivitySpanId.CreateRandom()}-01\r\nUser-Agent: probe/1\r\n";
        }

        var (file, _) = await site.RawAsync("GET", "/sampled-probe.txt?x=1", Traceparent(out var fileTrace));
        var (missing, _) = await site.RawAsync("GET", "/no-such-file.txt", Traceparent(out var missingTrace));
        var (health, _) = await site.RawAsync("GET", "/health", Traceparent(out var healthTrace));
        var (alive, _) = await site.RawAsync("HEAD", "/alive", Traceparent(out var aliveTrace));

        Assert.Equal(new[] { 200, 404, 200, 200 }, new[] { file, missing, health, alive });
        var served = Assert.Single(recorded, a => a.TraceId == fileTrace && a.Source.Name == "Microsoft.AspNetCore");
        Assert.Equal(ActivityKind.Server, served.Kind);
        Assert.Equal("GET", served.DisplayName);
        Assert.Equal("GET", served.GetTagItem("http.request.method"));
        Assert.Equal("/sampled-probe.txt", served.GetTagItem("url.path"));
        Assert.Equal("http", served.GetTagItem("url.scheme"));
        Assert.Equal("127.0.0.1", served.GetTagItem("server.address"));
        Assert.Equal("probe/1", served.GetTagItem("user_agent.original"));
        Assert.Equal(200, served.GetTagItem("http.response.status_code"));
        Assert.Equal("1.1", served.GetTagItem("network.protocol.version"));
        Assert.Equal("?x=Redacted", served.GetTagItem("url.query"));
        Assert.Equal(ActivityStatusCode.Unset, served.Status);
        var notFound = Assert.Single(recorded, a => a.TraceId == missingTrace && a.Source.Name == "Microsoft.AspNetCore");
        Assert.Equal(404, notFound.GetTagItem("http.response.status_code"));
        // Even with the caller asking for them, probes are not recorded (their metrics are).
        Assert.DoesNotContain(recorded, a => a.TraceId == healthTrace || a.TraceId == aliveTrace);
    }
}
