using System.Diagnostics;
using System.Net;
using System.Net.Http;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Sidecar.Tests;
using Xunit.Abstractions;

namespace Sidecar.Deployment.Tests;

/// <summary>
/// What every deployment test shares: a git server on the host that containers reach, the AppHost's publish
/// steps run as a user runs them, and the site checked over HTTP as a visitor sees it.
/// </summary>
public abstract class DeploymentTest(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>The sync period of the deployments under test: long enough that POST /sync is seen to act before it.</summary>
    protected static readonly TimeSpan Period = TimeSpan.FromSeconds(20);

    /// <summary>What a sync takes beyond the period on a busy machine: fetch, publish, the webhook.</summary>
    protected static readonly TimeSpan SyncAllowance = TimeSpan.FromSeconds(15);

    protected const string WebhookSecret = "deployment-test-webhook-secret";

    /// <summary>The secret the sidecar's revision webhook sends to the web server (as Authorization: Bearer).</summary>
    protected const string RevisionWebhookSecret = "deployment-test-revision-secret";

    protected readonly ITestOutputHelper Output = output;
    protected readonly TempFolder Folder = new("sidecar-deployment");
    protected readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };
    protected readonly string Project = $"sidecar-test-{Guid.NewGuid():N}"[..24];
    protected GitOrigin Origin = null!;
    protected OriginRepository Site = null!;

    public async Task InitializeAsync()
    {
        if (Infrastructure.Missing is { } missing)
        {
            throw new InvalidOperationException(missing);
        }
        // The containers reach the host at the address of Docker's bridge (docker0): an address of this machine only.
        var bridge = NetworkInterface.GetAllNetworkInterfaces().SingleOrDefault(n => n.Name == "docker0")
            ?? throw new InvalidOperationException("no docker0 interface: is dockerd running? (deploy/test/setup.sh up)");
        var gateway = bridge.GetIPProperties().UnicastAddresses.First(a => a.Address.AddressFamily == AddressFamily.InterNetwork).Address;
        Origin = await GitOrigin.StartAsync(gateway.ToString());
        Site = await Origin.CreateRepositoryAsync("site");
        await Site.CommitAsync("v1", ("index.html", "<h1>v1</h1>"));
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        if (Origin is not null)
        {
            await Origin.DisposeAsync();
        }
        Folder.Dispose();
    }

    /// <summary>Runs one of the AppHost's publish steps into a new folder and returns the folder.</summary>
    protected string Publish(string step)
    {
        var folder = Folder.Combine(step);
        var started = Stopwatch.StartNew();
        Command.Run("dotnet", ["run", "--project", Path.Combine(Infrastructure.RepositoryRoot, "AppHost", "AppHost.csproj"),
            "--no-build", "--no-launch-profile", "--",
            "--operation", "publish", "--step", step, "--output-path", folder,
            $"--Parameters:repo={Site.Url}", $"--Parameters:period={Period.TotalSeconds}s", "--Parameters:replicas=1",
            $"--Parameters:sync-webhook-secret={WebhookSecret}", $"--Parameters:web-revision-webhook-secret={RevisionWebhookSecret}",
            "--Sidecar:WriteSecretValues=true",
            $"--Sidecar:ImageRegistry={Infrastructure.Registry}", $"--Sidecar:ImageTag={Infrastructure.Tag}"]);
        Output.WriteLine($"{step}: {started.Elapsed.TotalSeconds:F1} s");
        return folder;
    }

    protected string Image(string repository) => $"{Infrastructure.Registry}/{repository}:{Infrastructure.Tag}";

    /// <summary>Waits until the site's front page holds the text; returns how long that took.</summary>
    protected async Task<TimeSpan> WaitForPageAsync(string baseUrl, string text, TimeSpan timeout, Func<string>? diagnostics = null)
    {
        var started = Stopwatch.StartNew();
        var last = "";
        while (started.Elapsed < timeout)
        {
            try
            {
                using var response = await Http.GetAsync(baseUrl + "/");
                last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
                if (response.IsSuccessStatusCode && last.Contains(text, StringComparison.Ordinal))
                {
                    return started.Elapsed;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                last = e.Message;
            }
            await Task.Delay(250);
        }
        Assert.Fail($"{baseUrl}/ did not serve '{text}' within {timeout.TotalSeconds} s; last answer: {last}\n{diagnostics?.Invoke()}");
        return started.Elapsed;
    }

    /// <summary>Waits until a GET answers 200 (a probe, as the kubelet runs it).</summary>
    protected async Task WaitForOkAsync(string url, TimeSpan timeout, Func<string>? diagnostics = null)
    {
        var started = Stopwatch.StartNew();
        var last = "";
        while (started.Elapsed < timeout)
        {
            try
            {
                using var response = await Http.GetAsync(url);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
                last = $"{(int)response.StatusCode}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                last = e.Message;
            }
            await Task.Delay(250);
        }
        Assert.Fail($"{url} did not answer 200 within {timeout.TotalSeconds} s; last answer: {last}\n{diagnostics?.Invoke()}");
    }

    /// <summary>POST /sync on the sidecar's status port, with the webhook secret as a GitLab token (or none).</summary>
    protected async Task<HttpResponseMessage> SyncNowAsync(string statusBaseUrl, string? secret)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, statusBaseUrl + "/sync") { Content = new StringContent("{}") };
        if (secret is not null)
        {
            request.Headers.Add("X-Gitlab-Token", secret);
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        return await Http.SendAsync(request, timeout.Token);
    }

    /// <summary>
    /// The site's life under a deployment, the same for every engine: a push is served within one period,
    /// POST /sync publishes at once with the secret and is refused without it.
    /// </summary>
    protected async Task PushAndSyncNowAsync(string siteUrl, string statusUrl, Func<string> diagnostics)
    {
        await Site.CommitAsync("v2", ("index.html", "<h1>v2</h1>"));
        var pushed = await WaitForPageAsync(siteUrl, "v2", Period + SyncAllowance, diagnostics);
        Output.WriteLine($"a push was served after {pushed.TotalSeconds:F1} s (period {Period.TotalSeconds} s)");

        // Just after a periodic sync: the next one is a whole period away, so v3 served at once is POST /sync's doing.
        await Site.CommitAsync("v3", ("index.html", "<h1>v3</h1>"));
        using (var refused = await SyncNowAsync(statusUrl, secret: null))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }
        using (var wrong = await SyncNowAsync(statusUrl, "not-the-secret"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }
        var asked = Stopwatch.StartNew();
        using (var accepted = await SyncNowAsync(statusUrl, WebhookSecret))
        {
            Assert.True(accepted.StatusCode == HttpStatusCode.OK, $"POST /sync: {(int)accepted.StatusCode} {await accepted.Content.ReadAsStringAsync()}");
        }
        await WaitForPageAsync(siteUrl, "v3", TimeSpan.FromSeconds(5), diagnostics);
        Output.WriteLine($"POST /sync: served after {asked.Elapsed.TotalSeconds:F1} s");
    }

    /// <summary>A TCP port free on this machine now, for a published port.</summary>
    protected static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
