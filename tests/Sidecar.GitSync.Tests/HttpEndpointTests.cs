using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;

namespace Sidecar.GitSync.Tests;

/// <summary>test_e2e.sh's expose_http cases, /metrics, and the push-triggered POST /sync with its secret.</summary>
[Trait("Category", "InProcess")]
public sealed class HttpEndpointTests : IAsyncLifetime
{
    private const string Secret = "s3cret";
    private static readonly TimeSpan Period = TimeSpan.FromHours(1);
    private readonly FakeClock clock = new();
    private SyncTestBed bed = null!;

    public async Task InitializeAsync() => bed = await SyncTestBed.StartAsync();

    public async Task DisposeAsync() => await bed.DisposeAsync();

    private async Task<(WebApplication App, HttpClient Client)> StartAsync(string secret = Secret, string gitRef = "HEAD")
    {
        var app = GitSyncApp.Build(bed.Options(o =>
        {
            o.Ref = gitRef;
            o.OneTime = false;
            // A long period: only POST /sync makes a second sync happen in time.
            o.Period = Period;
            o.HttpBind = "127.0.0.1:0";
            o.HttpMetrics = true;
            o.WebhookSecret = secret;
            // A transient failure of the loopback origin must not stop the app under test.
            o.MaxFailures = -1;
        }), clock);
        await app.StartAsync();
        return (app, new HttpClient { BaseAddress = new Uri(app.Urls.First()) });
    }

    [Fact]
    public async Task ASignedPushSyncsNowAndAnswersWithTheOutcome()
    {
        var first = await bed.Repository.CommitAsync("one", ("index.html", "one"));
        var (app, client) = await StartAsync();
        await using var _ = app;
        using var __ = client;
        await Eventually.HoldsAsync(() => bed.LinkTarget == $".worktrees/{first}", "the first sync publishes");
        var second = await bed.Repository.CommitAsync("two", ("index.html", "two"));

        var body = """{"ref":"refs/heads/main"}"""u8.ToArray();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/sync") { Content = new ByteArrayContent(body) };
        request.Headers.Add("X-Hub-Signature-256", "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), body)));
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("success", json.RootElement.GetProperty("outcome").GetString());
        Assert.Equal(second, json.RootElement.GetProperty("revision").GetString());
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("error").ValueKind);
        Assert.Equal($".worktrees/{second}", bed.LinkTarget);

        using var gitlab = new HttpRequestMessage(HttpMethod.Post, "/sync") { Content = new StringContent("{}") };
        gitlab.Headers.Add("X-Gitlab-Token", Secret);
        using var noop = await client.SendAsync(gitlab);
        Assert.Contains("\"outcome\":\"noop\"", await noop.Content.ReadAsStringAsync());
        await app.StopAsync();
    }

    [Fact]
    public async Task AFailedSyncAnswers500WithTheErrorAndStatusCountsTheFailures()
    {
        await bed.Repository.CommitAsync("one", ("index.html", "one"));
        var (app, client) = await StartAsync(gitRef: "no-such-branch");
        await using var _ = app;
        using var __ = client;

        using var request = new HttpRequestMessage(HttpMethod.Post, "/sync") { Content = new StringContent("{}") };
        request.Headers.Add("X-Gitlab-Token", Secret);
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("error", json.RootElement.GetProperty("outcome").GetString());
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("revision").ValueKind);
        Assert.Contains("'no-such-branch' was not found", json.RootElement.GetProperty("error").GetString());
        using var status = JsonDocument.Parse(await client.GetStringAsync("/status"));
        Assert.Equal("error", status.RootElement.GetProperty("lastOutcome").GetString());
        Assert.True(status.RootElement.GetProperty("consecutiveFailures").GetInt32() >= 2);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/")).StatusCode);
        await app.StopAsync();
    }

    [Fact]
    public async Task AWrongOrMissingSecretIs401AndCounted()
    {
        await bed.Repository.CommitAsync("one", ("index.html", "one"));
        var (app, client) = await StartAsync();
        await using var _ = app;
        using var __ = client;

        using var unsigned = await client.PostAsync("/sync", new StringContent("{}"));
        using var wrong = new HttpRequestMessage(HttpMethod.Post, "/sync") { Content = new StringContent("{}") };
        wrong.Headers.Add("X-Hub-Signature-256", "sha256=" + new string('0', 64));
        using var wrongResponse = await client.SendAsync(wrong);
        using var badToken = new HttpRequestMessage(HttpMethod.Post, "/sync") { Content = new StringContent("{}") };
        badToken.Headers.Add("X-Gitlab-Token", "guess");
        using var badTokenResponse = await client.SendAsync(badToken);

        Assert.Equal(HttpStatusCode.Unauthorized, unsigned.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongResponse.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, badTokenResponse.StatusCode);
        Assert.Contains("gitsync_sync_requests_refused_total 3", await client.GetStringAsync("/metrics"));
        await app.StopAsync();
    }

    [Fact]
    public async Task WithoutASecretPostSyncIs403AndNamesTheFlag()
    {
        var (app, client) = await StartAsync(secret: "");
        await using var _ = app;
        using var __ = client;

        using var response = await client.PostAsync("/sync", new StringContent("{}"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("--webhook-secret", await response.Content.ReadAsStringAsync());
        await app.StopAsync();
    }

    [Fact]
    public async Task StatusAndMetricsReportTheSyncs()
    {
        var sha = await bed.Repository.CommitAsync("one", ("index.html", "one"));
        var (app, client) = await StartAsync();
        await using var _ = app;
        using var __ = client;
        await clock.WhenWaitingAsync(Period, "the first sync ends");

        using var status = JsonDocument.Parse(await client.GetStringAsync("/status"));
        Assert.Equal(sha, status.RootElement.GetProperty("revision").GetString());
        Assert.Equal("success", status.RootElement.GetProperty("lastOutcome").GetString());
        Assert.Equal(JsonValueKind.Null, status.RootElement.GetProperty("lastError").ValueKind);
        Assert.Equal(0, status.RootElement.GetProperty("consecutiveFailures").GetInt32());
        Assert.Equal(clock.GetUtcNow(), status.RootElement.GetProperty("lastSyncTime").GetDateTimeOffset());

        var metrics = await client.GetStringAsync("/metrics");
        Assert.Contains("git_sync_count_total{status=\"success\"} 1", metrics);
        Assert.Contains("git_fetch_count_total 1", metrics);
        Assert.Contains("git_sync_duration_seconds_count{status=\"success\"} 1", metrics);
        Assert.Contains("# TYPE git_sync_hook_run_count_total counter", metrics);
        Assert.Equal($"ok {sha}\n", await client.GetStringAsync("/"));
        await app.StopAsync();
    }
}
