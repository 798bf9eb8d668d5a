using System.Net;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Sidecar.DemoOrigin;
using Sidecar.Tests;

namespace Sidecar.AppHost.Tests;

/// <summary>The real AppHost, with the demo origin, the sidecar and the web server, through Aspire.Hosting.Testing.</summary>
[Trait("Category", "AppHost")]
public sealed class EndToEndTests
{
    private const int PeriodSeconds = 2;

    [Fact]
    public async Task TheDemoSiteIsServedAndAPushedCommitIsServedWithinOnePeriod()
    {
        using var data = new TempFolder("sidecar-apphost");
        await using var app = await AppHostFixture.StartAsync(data, $"{PeriodSeconds}s");

        using var web = app.CreateHttpClient("web");
        var first = await web.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Contains("Hello from the Sidecar demo site", await first.Content.ReadAsStringAsync());
        var firstRevision = first.Headers.GetValues("X-Content-Revision").Single();

        var (pushed, marker) = await PushChangeAsync(app, data);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(PeriodSeconds + 10);
        string body;
        string revision;
        do
        {
            await Task.Delay(250);
            using var response = await web.GetAsync("/");
            body = await response.Content.ReadAsStringAsync();
            revision = response.Headers.GetValues("X-Content-Revision").Single();
        }
        while (!body.Contains(marker) && DateTime.UtcNow < deadline);

        Assert.Contains(marker, body);
        Assert.Equal(pushed, revision);
        Assert.NotEqual(firstRevision, revision);
    }

    /// <summary>Commits a change to the demo page and pushes it to the demo origin, as a user would; returns the SHA and the text added.</summary>
    public static async Task<(string Sha, string Marker)> PushChangeAsync(DistributedApplication app, TempFolder data)
    {
        var origin = app.GetEndpoint("origin", "http");
        var clone = data.Combine($"clone-{Guid.NewGuid():N}");
        await GitCli.RunAsync(data.Path, "clone", "--quiet", $"{origin}site.git", clone);
        var marker = $"Pushed at {Guid.NewGuid():N}";
        var index = Path.Combine(clone, "index.html");
        await File.WriteAllTextAsync(index, (await File.ReadAllTextAsync(index)).Replace("</main>", $"<p>{marker}</p></main>"));
        await GitCli.RunAsync(clone, "commit", "--quiet", "-am", "Change the demo page");
        await GitCli.RunAsync(clone, "push", "--quiet", "origin", "HEAD:main");
        return (await GitCli.RunAsync(clone, "rev-parse", "HEAD"), marker);
    }
}
