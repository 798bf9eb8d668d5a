using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Sidecar.Tests;

namespace Sidecar.AppHost.Tests;

/// <summary>A sidecar that audits signatures, under the real AppHost: the site is served, and the dashboard shows the verdict.</summary>
[Trait("Category", "AppHost")]
public sealed class SignatureVerificationDashboardTests
{
    [Fact]
    public async Task AnAuditingSidecarPublishesTheUnsignedDemoRevisionAndTheDashboardShowsItsVerdict()
    {
        using var data = new TempFolder("sidecar-signatures");
        // A trusted key the demo origin's unsigned commits were never signed with.
        var allowedSigners = data.Combine("allowed_signers");
        await File.WriteAllTextAsync(allowedSigners,
            "site@example.com namespaces=\"git\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPIkSltn/aK2cWyDGChJO1fCaniqselQ3JI8Ck/c2LpX\n");
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            [$"--Sidecar:DataDirectory={data.Path}", "--Parameters:period=1h"]);
        var sync = builder.Resources.OfType<GitSyncResource>().Single();
        builder.CreateResourceBuilder(sync).WithSignatureVerification(GitSyncSignatureMode.Audit, allowedSignersFile: allowedSigners);
        await using var app = await builder.BuildAsync();
        using var timeout = new CancellationTokenSource(AppHostFixture.StartTimeout);
        await app.StartAsync(timeout.Token);

        // Audit publishes what it judged: the web server starts and serves the revision.
        await app.ResourceNotifications.WaitForResourceHealthyAsync("web", timeout.Token);
        using var web = app.CreateHttpClient("web");
        using var page = await web.GetAsync("/", timeout.Token);
        Assert.True(page.IsSuccessStatusCode, $"GET / answered {(int)page.StatusCode}");
        var revision = page.Headers.GetValues("X-Content-Revision").Single();

        // The verdict of the served revision is on the sync resource, next to the revision itself.
        var shown = await app.ResourceNotifications.WaitForResourceAsync("sync",
            e => e.Snapshot.Properties.Any(p => p.Name == "gitsync.signature.verdict" && Equals(p.Value, "unsigned")), timeout.Token);
        var properties = shown.Snapshot.Properties.ToDictionary(p => p.Name, p => p.Value);
        Assert.Equal(revision, properties["gitsync.revision"]);
        Assert.Equal($"commit {revision}", properties["gitsync.signature.object"]);
        Assert.Contains("unsigned", (string)properties["gitsync.revision.signer"]!);
    }
}
