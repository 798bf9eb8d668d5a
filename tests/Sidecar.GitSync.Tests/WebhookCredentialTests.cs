using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Sidecar.GitSync.CommandLine;
using Sidecar.GitSync.Hooks;

namespace Sidecar.GitSync.Tests;

/// <summary>The webhook's credentials: sent in a header, never shown in a log line.</summary>
[Trait("Category", "InProcess")]
public sealed class WebhookCredentialTests
{
    [Theory]
    [InlineData("http://user:pw@web:8080/_sidecar/revision?token=abc", "http://web:8080/_sidecar/revision")]
    [InlineData("https://hooks.example.com/notify?key=s3cret#frag", "https://hooks.example.com/notify")]
    [InlineData("http://127.0.0.1:8080/_sidecar/revision", "http://127.0.0.1:8080/_sidecar/revision")]
    [InlineData("not a url ?token=abc", "(not a URL)")]
    public void ALoggedUrlHasNoUserInfoAndNoQuery(string url, string logged) => Assert.Equal(logged, Webhook.ForLogs(url));

    [Fact]
    public async Task TheTokenGoesAsABearerHeaderAndNoLogLineHoldsIt()
    {
        const string Token = "webhook-token-9c2d";
        const string QuerySecret = "query-secret-41aa";
        var headers = new List<string>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var receiver = builder.Build();
        receiver.MapPost("/hook", (HttpRequest request) =>
        {
            lock (headers)
            {
                headers.Add(request.Headers.Authorization.ToString());
            }
            return Results.StatusCode(500);
        });
        await receiver.StartAsync();
        var uri = new Uri(receiver.Urls.First());
        var logs = new LogLines();
        using var loggerFactory = LoggerFactory.Create(l => l.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        var options = new GitSyncOptions { WebhookUrl = $"http://me:{Token}@{uri.Authority}/hook?token={QuerySecret}", WebhookToken = Token };
        using var webhook = new Webhook(options, new FakeClock(), loggerFactory.CreateLogger<Webhook>());

        Assert.False(await webhook.RunAsync(new string('a', 40), default, CancellationToken.None));

        Assert.Equal($"Bearer {Token}", Assert.Single(headers));
        var line = Assert.Single(logs.Lines);
        Assert.Contains($"http://{uri.Authority}/hook", line);
        Assert.DoesNotContain(Token, line);
        Assert.DoesNotContain(QuerySecret, line);
        await receiver.StopAsync();
    }

    private sealed class LogLines : ILoggerProvider, ILogger
    {
        public List<string> Lines { get; } = [];

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Lines)
            {
                Lines.Add(formatter(state, exception));
            }
        }

        public void Dispose()
        {
        }
    }
}
