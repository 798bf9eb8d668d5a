using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Sidecar.GitSync.Tests;

/// <summary>A webhook receiver on loopback: records each call's method and headers, answers with a status the test sets.</summary>
public sealed class HookReceiver : IAsyncDisposable
{
    private readonly WebApplication app;

    private HookReceiver(WebApplication app) => this.app = app;

    public ConcurrentQueue<(string Method, string? Hash, string? TraceParent)> Calls { get; } = new();

    /// <summary>The status to answer with; a test may change it between calls.</summary>
    public int Status { get; set; } = 200;

    public string Url => app.Urls.First() + "/hook";

    public static async Task<HookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new HookReceiver(app);
        app.Map("/hook", (HttpRequest request) =>
        {
            receiver.Calls.Enqueue((request.Method, request.Headers["Gitsync-Hash"].FirstOrDefault(), request.Headers["traceparent"].FirstOrDefault()));
            return Results.StatusCode(receiver.Status);
        });
        await app.StartAsync();
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
