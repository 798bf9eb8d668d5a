using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Trace;

namespace Sidecar.StaticWeb.Tests;

/// <summary>
/// The service defaults' request spans (ServiceDefaults/RequestSpans.cs), on a small app of their own: the name and the
/// HTTP attributes a recorded request gets, routes, errors, and the paths that are never traced.
/// </summary>
[Collection(ActivityListenerCollection.Name)]
[Trait("Category", "InProcess")]
public sealed class RequestSpansTests : IAsyncLifetime
{
    private readonly ConcurrentQueue<Activity> recorded = new();
    private ActivityListener? listener;
    private WebApplication? app;
    private int port;

    public async Task InitializeAsync()
    {
        // Records nothing itself: what is recorded is what the app's tracer provider (every request) decided.
        listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == RequestSpans.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.None,
            ActivityStopped = activity => { if (activity.Recorded) recorded.Enqueue(activity); },
        };
        ActivitySource.AddActivityListener(listener);

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddServiceDefaults();
        builder.ExcludeFromTraces("/status");
        builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.SetSampler(new AlwaysOnSampler()));
        app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapGet("/status", () => "ok");
        app.MapPost("/status", () => "posted");
        app.MapPost("/items/{id}", (string id) => id);
        app.MapGet("/boom", string () => throw new InvalidOperationException("boom"));
        app.MapGet("/unavailable", () => Results.StatusCode(503));
        await app.StartAsync();
        port = new Uri(app.Urls.First()).Port;
    }

    public async Task DisposeAsync()
    {
        listener?.Dispose();
        if (app is not null)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    [Fact]
    public async Task ARoutedRequestIsNamedByItsRouteAndTagged()
    {
        Assert.Equal(200, await SendAsync("POST", "/items/7?token=secret&flag", "User-Agent: tests/1\r\n"));

        var span = await SpanAsync("/items/7");
        Assert.Equal(ActivityKind.Server, span.Kind);
        Assert.Equal("POST /items/{id}", span.DisplayName);
        Assert.Equal("POST", span.GetTagItem("http.request.method"));
        Assert.Null(span.GetTagItem("http.request.method_original"));
        Assert.Equal("/items/{id}", span.GetTagItem("http.route"));
        Assert.Equal("?token=Redacted&flag", span.GetTagItem("url.query"));
        Assert.Equal("http", span.GetTagItem("url.scheme"));
        Assert.Equal("127.0.0.1", span.GetTagItem("server.address"));
        Assert.Equal(port, span.GetTagItem("server.port"));
        Assert.Equal("1.1", span.GetTagItem("network.protocol.version"));
        Assert.Equal("tests/1", span.GetTagItem("user_agent.original"));
        Assert.Equal(200, span.GetTagItem("http.response.status_code"));
        Assert.Equal(ActivityStatusCode.Unset, span.Status);
    }

    [Fact]
    public async Task AnUnknownMethodIsOther()
    {
        Assert.Equal(404, await SendAsync("FROB", "/nothing-here"));

        var span = await SpanAsync("/nothing-here");
        Assert.Equal("HTTP", span.DisplayName);
        Assert.Equal("_OTHER", span.GetTagItem("http.request.method"));
        Assert.Equal("FROB", span.GetTagItem("http.request.method_original"));
        Assert.Equal(404, span.GetTagItem("http.response.status_code"));
    }

    [Fact]
    public async Task AnExceptionAndAServerErrorMarkTheSpanAsFailed()
    {
        Assert.Equal(500, await SendAsync("GET", "/boom"));
        Assert.Equal(503, await SendAsync("GET", "/unavailable"));

        var thrown = await SpanAsync("/boom");
        Assert.Equal(ActivityStatusCode.Error, thrown.Status);
        Assert.Equal(typeof(InvalidOperationException).FullName, thrown.GetTagItem("error.type"));
        Assert.Equal(500, thrown.GetTagItem("http.response.status_code"));
        var unavailable = await SpanAsync("/unavailable");
        Assert.Equal(ActivityStatusCode.Error, unavailable.Status);
        Assert.Equal(503, unavailable.GetTagItem("http.response.status_code"));
    }

    [Fact]
    public async Task ProbesAndExcludedPollsAreNotTracedButOtherMethodsOnThemAre()
    {
        Assert.Equal(200, await SendAsync("GET", "/health"));
        Assert.Equal(200, await SendAsync("GET", "/alive"));
        Assert.Equal(200, await SendAsync("GET", "/status"));
        Assert.Equal(200, await SendAsync("POST", "/status"));

        var posted = await SpanAsync("/status");
        Assert.Equal("POST /status", posted.DisplayName);
        Assert.DoesNotContain(recorded, a => (string?)a.GetTagItem("url.path") is "/health" or "/alive"
            || (a.GetTagItem("url.path") is "/status" && a.GetTagItem("http.request.method") is "GET"));
    }

    private async Task<Activity> SpanAsync(string path)
    {
        // The activity stops after the response was written: wait for it briefly.
        for (var i = 0; i < 100; i++)
        {
            if (recorded.FirstOrDefault(a => (string?)a.GetTagItem("url.path") == path) is { } span)
            {
                return span;
            }
            await Task.Delay(20);
        }
        throw new Xunit.Sdk.XunitException($"no recorded span for {path}; recorded: {string.Join(", ", recorded.Select(a => a.DisplayName))}");
    }

    private async Task<int> SendAsync(string method, string target, string headers = "")
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        var stream = client.GetStream();
        var body = method == "POST" ? "Content-Length: 0\r\n" : "";
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{headers}{body}Connection: close\r\n\r\n"));
        using var reader = new StreamReader(stream, Encoding.ASCII);
        var status = await reader.ReadLineAsync() ?? "";
        await reader.ReadToEndAsync();
        return int.Parse(status.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
    }
}
