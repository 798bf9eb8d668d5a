using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Sidecar.Tests;

namespace Sidecar.AppHost.Tests;

/// <summary>The hosting extensions with nginx, an executable the project did not write, as the main server.</summary>
[Trait("Category", "AppHost")]
public sealed class NginxMainTests
{
    [Fact]
    public async Task NginxServesWhatTheSidecarPublishesAndSeesTheNextRevision()
    {
        Assert.True(File.Exists("/usr/sbin/nginx") || File.Exists("/usr/bin/nginx"), "nginx is not installed: apt-get install nginx (.ci/run does)");
        await using var origin = await GitOrigin.StartAsync();
        var repository = await origin.CreateRepositoryAsync("site");
        await repository.CommitAsync("first", ("index.html", "<h1>first</h1>"));
        using var data = new TempFolder("sidecar-nginx");

        var builder = DistributedApplicationTestingBuilder.Create();
        var content = builder.AddSharedContent("content", data.Combine("content"));
        var sync = builder.AddGitSync("sync", ReferenceExpression.Create($"{repository.Url}"), content)
            .WithPeriod(builder.AddParameterWithDefault("period", "500ms"));
        builder.AddNginx("nginx", data.Combine("nginx"))
            .WithGitSyncSidecar(sync, NginxResourceExtensions.RootVariable);
        await using var app = await builder.BuildAsync();
        using var timeout = new CancellationTokenSource(AppHostFixture.StartTimeout);
        await app.StartAsync(timeout.Token);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("nginx", timeout.Token);

        using var nginx = app.CreateHttpClient("nginx");
        Assert.Equal("<h1>first</h1>", await nginx.GetStringAsync("/"));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await nginx.GetAsync("/.git/config")).StatusCode);

        await repository.CommitAsync("second", ("index.html", "<h1>second</h1>"));
        await AppHostFixture.WaitUntilAsync(() => nginx.GetStringAsync("/").Result == "<h1>second</h1>",
            TimeSpan.FromSeconds(20), () => "nginx did not serve the second revision");
    }
}
