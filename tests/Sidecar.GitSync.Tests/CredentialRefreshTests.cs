using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sidecar.GitSync.Http;
using Sidecar.GitSync.Sync;
using Sidecar.GitSync.Telemetry;

namespace Sidecar.GitSync.Tests;

/// <summary>
/// test_e2e.sh's askpass_url cases (wrong, correct, sometimes wrong, flaky, slow start) against a real HTTP endpoint,
/// and GitHub App auth against a loopback stand-in for GitHub's API that checks the JWT's signature.
/// </summary>
[Trait("Category", "InProcess")]
public sealed class CredentialRefreshTests : IAsyncLifetime
{
    private SyncTestBed bed = null!;

    public async Task InitializeAsync()
    {
        bed = await SyncTestBed.StartAsync();
        bed.Origin.RequiredCredentials = ("my-username", "my-password");
    }

    public async Task DisposeAsync() => await bed.DisposeAsync();

    [Fact]
    public async Task WrongCredentialsFromTheUrlFailTheSyncAndCorrectOnesSucceed()
    {
        var sha = await bed.Repository.CommitAsync("one", ("file", "one"));
        var password = "wrong";
        await using var askpass = await LoopbackEndpoint.StartAsync(context =>
            context.Response.WriteAsync($"username=my-username\npassword={password}\n"));
        var options = bed.Options(o => o.AskPassUrl = askpass.Url + "/git_askpass");
        // On a fake clock the URL's one second never runs out however slow the first request of a process is.
        var clock = new FakeClock();

        var wrong = await bed.SyncOnceAsync(options, clock);
        Assert.Equal(SyncOutcome.Error, wrong.Outcome);
        Assert.Contains("refused the credentials", wrong.Error);
        Assert.DoesNotContain("password=", wrong.Error);
        Assert.Null(bed.LinkTarget);

        password = "my-password";
        var correct = await bed.SyncOnceAsync(options, clock);

        Assert.Equal(sha, correct.Revision);
        Assert.Equal(2, askpass.Requests);
    }

    private static readonly TimeSpan Period = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task AnUrlThatIsSometimesWrongOrFlakyIsAskedAgainAtEachSync()
    {
        var first = await bed.Repository.CommitAsync("one", ("file", "one"));
        var calls = 0;
        // Alternates: a refusal (503), then wrong credentials, then good ones.
        await using var askpass = await LoopbackEndpoint.StartAsync(async context =>
        {
            switch (Interlocked.Increment(ref calls) % 3)
            {
                case 1:
                    context.Response.StatusCode = 503;
                    await context.Response.WriteAsync("try later");
                    break;
                case 2:
                    await context.Response.WriteAsync("username=my-username\npassword=wrong\n");
                    break;
                default:
                    await context.Response.WriteAsync("username=my-username\npassword=my-password\n");
                    break;
            }
        });
        var clock = new FakeClock();
        await using var app = GitSyncApp.Build(bed.Options(o =>
        {
            o.OneTime = false;
            o.Period = Period;
            o.MaxFailures = 2;
            o.AskPassUrl = askpass.Url + "/git_askpass";
        }), clock);
        await app.StartAsync();
        await clock.WhenWaitingAsync(Period, "the first sync ends");
        // Each sync asks once; the answers go round in threes, so the third sync after a change has good ones.
        async Task PublishesAsync(string sha)
        {
            for (var poll = 0; poll < 3 && bed.LinkTarget != $".worktrees/{sha}"; poll++)
            {
                await clock.NextPeriodAsync(Period);
            }
            Assert.Equal($".worktrees/{sha}", bed.LinkTarget);
        }

        await PublishesAsync(first);
        var second = await bed.Repository.CommitAsync("two", ("file", "two"));
        await PublishesAsync(second);
        await bed.Repository.GitAsync("update-ref", "refs/heads/main", first);
        await PublishesAsync(first);

        var metrics = MetricsEndpoint.Render(app.Services.GetRequiredService<GitSyncTelemetry>());
        Assert.Matches("git_sync_askpass_calls\\{status=\"error\"\\} [1-9]", metrics);
        Assert.Matches("git_sync_askpass_calls\\{status=\"success\"\\} [1-9]", metrics);
        Assert.Equal(0, app.Services.GetRequiredService<SyncStatus>().ExitCode);
        await app.StopAsync();
    }

    [Fact]
    public async Task AFlakyOrSlowUrlFailsTheSyncNamingTheFlag()
    {
        await bed.Repository.CommitAsync("one", ("file", "one"));
        await using var askpass = await LoopbackEndpoint.StartAsync(async context =>
        {
            if (context.Request.Path == "/slow")
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }
            context.Response.StatusCode = 503;
        });

        var refused = await bed.SyncOnceAsync(bed.Options(o => o.AskPassUrl = askpass.Url + "/down"));
        var clock = new FakeClock();
        var slowSync = bed.SyncOnceAsync(bed.Options(o => o.AskPassUrl = askpass.Url + "/slow"), clock);
        await clock.AdvanceAsync(TimeSpan.FromSeconds(1), "the askpass URL is asked, for one second at most");
        var slow = await slowSync.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Contains($"credential refresh failed: the askpass URL answered 503 Service Unavailable (no body): check that --askpass-url '{askpass.Url}/down' answers 200", refused.Error);
        Assert.Contains("credential refresh failed: no answer within 1s", slow.Error);
    }

    [Fact]
    public async Task AnUrlThatComesUpLateIsUsedOnceItAnswers()
    {
        var sha = await bed.Repository.CommitAsync("one", ("file", "one"));
        var port = SidecarProcess.FreePort();
        var clock = new FakeClock();
        await using var app = GitSyncApp.Build(bed.Options(o =>
        {
            o.OneTime = false;
            o.Period = Period;
            o.MaxFailures = -1;
            o.AskPassUrl = $"http://127.0.0.1:{port}/git_askpass";
        }), clock);
        await app.StartAsync();
        await clock.WhenWaitingAsync(Period, "the first sync ends");
        await clock.NextPeriodAsync(Period);
        Assert.Equal(2, app.Services.GetRequiredService<SyncStatus>().ConsecutiveFailures);
        Assert.Null(bed.LinkTarget);

        await using var askpass = await LoopbackEndpoint.StartAsync(context =>
            context.Response.WriteAsync("username=my-username\npassword=my-password\n"), port);

        await clock.NextPeriodAsync(Period);
        Assert.Equal($".worktrees/{sha}", bed.LinkTarget);
        await app.StopAsync();
    }

    [Fact]
    public async Task AGitHubAppTokenIsMintedWithASignedJwtAndUsedUntilItNearlyExpires()
    {
        var sha = await bed.Repository.CommitAsync("one", ("file", "one"));
        bed.Origin.RequiredCredentials = ("-", "ghs_installation_token");
        using var key = RSA.Create(2048);
        string? issuer = null;
        var clock = new FakeClock();
        await using var github = await LoopbackEndpoint.StartAsync(async context =>
        {
            var jwt = context.Request.Headers.Authorization.ToString()["Bearer ".Length..].Split('.');
            var valid = key.VerifyData(Encoding.ASCII.GetBytes(jwt[0] + "." + jwt[1]), FromBase64Url(jwt[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var claims = JsonDocument.Parse(FromBase64Url(jwt[1]));
            issuer = claims.RootElement.GetProperty("iss").GetString();
            if (!valid || context.Request.Path != "/api/v3/app/installations/42/access_tokens" || context.Request.Method != "POST")
            {
                context.Response.StatusCode = 401;
                return;
            }
            context.Response.StatusCode = 201;
            await context.Response.WriteAsync($$"""{"token":"ghs_installation_token","expires_at":"{{clock.GetUtcNow().AddHours(1):O}}"}""");
        });
        using var keyFolder = new Sidecar.Tests.TempFolder("sidecar-app-key");
        var keyFile = keyFolder.Combine("app.pem");
        await File.WriteAllTextAsync(keyFile, key.ExportPkcs8PrivateKeyPem());
        var period = TimeSpan.FromMinutes(29) + TimeSpan.FromSeconds(50);
        var options = bed.Options(o =>
        {
            o.GitHubBaseUrl = github.Url + "/api/v3/";
            o.GitHubAppClientId = "Iv1.abc";
            o.GitHubAppInstallationId = 42;
            o.GitHubAppPrivateKeyFile = keyFile;
            o.OneTime = false;
            o.Period = period;
        });
        await using var app = GitSyncApp.Build(options, clock);
        await app.StartAsync();

        await clock.WhenWaitingAsync(period, "the first sync ends");
        Assert.Equal($".worktrees/{sha}", bed.LinkTarget);
        Assert.Equal("Iv1.abc", issuer);
        // An hour-long token is minted once, not at every sync: with 30m10s left it is used again.
        await clock.NextPeriodAsync(period);
        Assert.Equal(1, github.Requests);
        Assert.Contains("git_sync_refresh_github_app_token_count{status=\"success\"} 1", MetricsEndpoint.Render(app.Services.GetRequiredService<GitSyncTelemetry>()));
        // With 20s left, under 30s, it is minted again.
        await clock.NextPeriodAsync(period);
        Assert.Equal(2, github.Requests);
        Assert.Equal(SyncOutcome.Noop, app.Services.GetRequiredService<SyncStatus>().LastResult?.Outcome);
        await app.StopAsync();
    }

    private static byte[] FromBase64Url(string text)
    {
        var padded = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(padded.PadRight(padded.Length + (4 - padded.Length % 4) % 4, '='));
    }
}

/// <summary>A Kestrel endpoint on loopback answering every request with one handler, counting them.</summary>
public sealed class LoopbackEndpoint : IAsyncDisposable
{
    private readonly WebApplication app;
    private int requests;

    private LoopbackEndpoint(WebApplication app) => this.app = app;

    public string Url => app.Urls.First();

    public int Requests => Volatile.Read(ref requests);

    public static async Task<LoopbackEndpoint> StartAsync(Func<HttpContext, Task> handler, int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        var endpoint = new LoopbackEndpoint(app);
        app.Run(context =>
        {
            Interlocked.Increment(ref endpoint.requests);
            return handler(context);
        });
        await app.StartAsync();
        return endpoint;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
