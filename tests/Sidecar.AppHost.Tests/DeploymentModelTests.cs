using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Deployment;
using Aspire.Hosting.Testing;
using k8s;
using k8s.Models;
using Sidecar.Tests;
using YamlDotNet.Serialization;

namespace Sidecar.AppHost.Tests;

/// <summary>
/// One model, every output: an app model built here, in publish mode, run through the real publish pipeline
/// (the Kubernetes and Compose steps and Aspire's own manifest publisher). What a user adds to the model shows
/// up in every deployment.
/// </summary>
[Trait("Category", "AppHost")]
public sealed class DeploymentModelTests : IDisposable
{
    private const string Repo = "https://example.com/org/site.git";
    private static readonly string StaticWebProject = Path.GetFullPath(Path.Combine(Projects.AppHost.ProjectPath, // the AppHost's folder
        "..", "src", "Sidecar.StaticWeb", "Sidecar.StaticWeb.csproj"));

    private readonly TempFolder output = new("sidecar-model");

    public void Dispose() => output.Dispose();

    [Fact]
    public async Task WhatWithEnvironmentAndWithArgsAddReachesKubernetesComposeAndTheManifest()
    {
        void AddUserSettings(IDistributedApplicationBuilder builder, IResourceBuilder<GitSyncResource> sync, IResourceBuilder<ProjectResource> web)
        {
            sync.WithEnvironment("GITSYNC_SYNC_TIMEOUT", "45s").WithArgs("-v", "2");
            web.WithEnvironment("SITE_BANNER", ReferenceExpression.Create($"sync at {sync.GetEndpoint(GitSyncResource.StatusEndpointName)}"));
        }

        await PublishAsync(output.Combine("k8s"), ["--step", DeploymentSteps.Kubernetes], AddUserSettings);
        await PublishAsync(output.Combine("compose"), ["--step", DeploymentSteps.Compose], AddUserSettings);
        await PublishAsync(output.Combine("aspire-manifest.json"), ["--publisher", "manifest"], AddUserSettings);

        var deployment = KubernetesYaml.LoadAllFromString(await File.ReadAllTextAsync(output.Combine("k8s", "sidecar.yaml")), strict: true)
            .OfType<V1Deployment>().Single();
        var syncContainer = deployment.Spec.Template.Spec.InitContainers.Single();
        var webContainer = deployment.Spec.Template.Spec.Containers.Single();
        Assert.Equal("45s", syncContainer.Env.Single(e => e.Name == "GITSYNC_SYNC_TIMEOUT").Value);
        Assert.Equal(["-v", "2"], syncContainer.Args);
        // An endpoint of the same Pod is on loopback, at the port the Pod gives it.
        var statusPort = syncContainer.Ports.Single(p => p.Name == "status").ContainerPort;
        Assert.Equal($"sync at http://127.0.0.1:{statusPort}", webContainer.Env.Single(e => e.Name == "SITE_BANNER").Value);
        Assert.Equal($":{statusPort}", syncContainer.Env.Single(e => e.Name == "GITSYNC_HTTP_BIND").Value);

        var compose = new DeserializerBuilder().Build()
            .Deserialize<Dictionary<string, object>>(await File.ReadAllTextAsync(output.Combine("compose", "docker-compose.yaml")));
        var services = (Dictionary<object, object>)compose["services"];
        var sync = (Dictionary<object, object>)services["sync"];
        var web = (Dictionary<object, object>)services["web"];
        Assert.Equal("45s", ((Dictionary<object, object>)sync["environment"])["GITSYNC_SYNC_TIMEOUT"]);
        Assert.Equal(["-v", "2"], ((List<object>)sync["command"]).Cast<string>());
        // In Compose, services reach each other by name.
        Assert.Equal($"sync at http://sync:{statusPort}", ((Dictionary<object, object>)web["environment"])["SITE_BANNER"]);

        using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(output.Combine("aspire-manifest.json")));
        var resources = manifest.RootElement.GetProperty("resources");
        Assert.Equal("45s", resources.GetProperty("sync").GetProperty("env").GetProperty("GITSYNC_SYNC_TIMEOUT").GetString());
        Assert.Equal(["-v", "2"], resources.GetProperty("sync").GetProperty("args").EnumerateArray().Select(a => a.GetString()));
        Assert.StartsWith("sync at {sync.bindings.status.url}", resources.GetProperty("web").GetProperty("env").GetProperty("SITE_BANNER").GetString());
    }

    [Fact]
    public async Task ASecretAddedToTheModelIsASecretReferenceInEveryOutputAndItsValueIsWrittenNowhere()
    {
        const string Token = "model-secret-value-5f1e";
        void AddSecret(IDistributedApplicationBuilder builder, IResourceBuilder<GitSyncResource> sync, IResourceBuilder<ProjectResource> web)
        {
            var token = builder.AddParameter("site-token", secret: true);
            web.WithEnvironment("SITE_TOKEN", token)
                .WithEnvironment("SITE_FEED", ReferenceExpression.Create($"https://feed.example.com/?key={token}"));
        }
        await PublishAsync(output.Combine("k8s"), ["--step", DeploymentSteps.Kubernetes, "--Parameters:site-token=" + Token], AddSecret);
        await PublishAsync(output.Combine("compose"), ["--step", DeploymentSteps.Compose, "--Parameters:site-token=" + Token], AddSecret);

        var deployment = KubernetesYaml.LoadAllFromString(await File.ReadAllTextAsync(output.Combine("k8s", "sidecar.yaml")), strict: true)
            .OfType<V1Deployment>().Single();
        var env = deployment.Spec.Template.Spec.Containers.Single().Env.ToList();
        var token = env.Single(e => e.Name == "SITE_TOKEN");
        Assert.Equal(("web-secrets", "site-token"), (token.ValueFrom.SecretKeyRef.Name, token.ValueFrom.SecretKeyRef.Key));
        // A secret inside a longer value: Kubernetes expands $(NAME) of a variable defined earlier in the list.
        var feed = env.FindIndex(e => e.Name == "SITE_FEED");
        Assert.Equal("https://feed.example.com/?key=$(SIDECAR_SECRET_SITE_TOKEN)", env[feed].Value);
        var helper = env.FindIndex(e => e.Name == "SIDECAR_SECRET_SITE_TOKEN");
        Assert.InRange(helper, 0, feed - 1);
        Assert.Equal("site-token", env[helper].ValueFrom.SecretKeyRef.Key);
        Assert.Contains("\"SITE_FEED\": \"https://feed.example.com/?key=${SITE_TOKEN}\"", await File.ReadAllTextAsync(output.Combine("compose", "docker-compose.yaml")));
        Assert.Contains("--from-literal=site-token=", await File.ReadAllTextAsync(output.Combine("k8s", "create-secrets.sh")));
        Assert.Contains("\"SITE_TOKEN\": \"${SITE_TOKEN}\"", await File.ReadAllTextAsync(output.Combine("compose", "docker-compose.yaml")));
        foreach (var file in Directory.EnumerateFiles(output.Path, "*", SearchOption.AllDirectories))
        {
            Assert.DoesNotContain(Token, await File.ReadAllTextAsync(file));
        }
    }

    /// <summary>Builds the sidecar pattern in publish mode, lets the test add to it, and runs the pipeline as the AppHost would.</summary>
    private static async Task PublishAsync(string outputPath, string[] operation,
        Action<IDistributedApplicationBuilder, IResourceBuilder<GitSyncResource>, IResourceBuilder<ProjectResource>> addUserSettings)
    {
        var builder = DistributedApplicationTestingBuilder.Create(
            ["--operation", "publish", "--output-path", outputPath, $"--Parameters:repo={Repo}",
             "--Sidecar:ImageRegistry=registry.example.com/team", .. operation]);
        var content = builder.AddSharedContent("content", Path.Combine(outputPath, "unused"));
        var sync = builder.AddGitSync("sync", builder.AddParameter("repo"), content);
        var web = builder.AddProject("web", StaticWebProject).WithHttpEndpoint().WithExternalHttpEndpoints().WithGitSyncSidecar(sync);
        addUserSettings(builder, sync, web);
        builder.AddSidecarDeploymentSteps();
        await using var app = builder.Build();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await app.RunAsync(timeout.Token);
    }
}
