using System.Text.Json;
using k8s;
using k8s.Models;
using Sidecar.Tests;
using YamlDotNet.Serialization;

namespace Sidecar.AppHost.Tests;

/// <summary>The AppHost's publish operations, run as a user runs them, and their output read back strictly.</summary>
public sealed class PublishTests : IDisposable
{
    private const string Repo = "https://example.com/org/site.git";
    private readonly TempFolder output = new("sidecar-publish");

    public void Dispose() => output.Dispose();

    [Fact]
    public async Task TheManifestHoldsBothServicesTheSharedVolumeAndTheParameters()
    {
        var (exitCode, log) = await AppHostProcess.RunAsync("--operation", "publish", "--publisher", "manifest",
            "--output-path", output.Combine("aspire-manifest.json"));
        Assert.True(exitCode == 0, log);

        using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(output.Combine("aspire-manifest.json")));
        var resources = manifest.RootElement.GetProperty("resources");
        Assert.Equal("project.v0", resources.GetProperty("web").GetProperty("type").GetString());
        Assert.Equal("project.v0", resources.GetProperty("sync").GetProperty("type").GetString());
        var content = resources.GetProperty("content");
        Assert.Equal("sidecar.sharedcontent.v0", content.GetProperty("type").GetString());
        Assert.Equal("/content", content.GetProperty("mountPath").GetString());
        foreach (var parameter in new[] { "repo", "ref", "period", "replicas", "sync-webhook-secret" })
        {
            Assert.Equal("parameter.v0", resources.GetProperty(parameter).GetProperty("type").GetString());
        }
        Assert.True(resources.GetProperty("sync-webhook-secret").GetProperty("inputs").GetProperty("value").GetProperty("secret").GetBoolean());
        var syncEnv = resources.GetProperty("sync").GetProperty("env");
        Assert.Equal("{repo.value}", syncEnv.GetProperty("GITSYNC_REPO").GetString());
        Assert.Equal("/content", syncEnv.GetProperty("GITSYNC_ROOT").GetString());
        Assert.Equal("/content/current", resources.GetProperty("web").GetProperty("env").GetProperty("StaticWeb__Root").GetString());
        // Told of every revision by the sidecar's webhook, the server does not read the link per request.
        Assert.Equal("webhook", resources.GetProperty("web").GetProperty("env").GetProperty("StaticWeb__RevisionCheck").GetString());
        // The demo origin runs only on this machine; a deployment syncs the repo parameter.
        Assert.False(resources.TryGetProperty("origin", out _));
    }

    [Fact]
    public async Task TheKubernetesStepPutsWebAndGitSyncInOnePod()
    {
        var (exitCode, log) = await AppHostProcess.RunAsync("--operation", "publish", "--step", "publish-kubernetes",
            "--output-path", output.Path, $"--Parameters:repo={Repo}", "--Parameters:replicas=3", "--Parameters:ref=main",
            "--Sidecar:ImageRegistry=registry.example.com/team", "--Sidecar:ImageTag=1.2.3");
        Assert.True(exitCode == 0, log);

        var objects = KubernetesYaml.LoadAllFromString(await File.ReadAllTextAsync(output.Combine("sidecar.yaml")), strict: true);
        var deployment = Assert.Single(objects.OfType<V1Deployment>());
        var service = Assert.Single(objects.OfType<V1Service>());
        var secret = Assert.Single(objects.OfType<V1Secret>());

        Assert.Equal(3, deployment.Spec.Replicas);
        var pod = deployment.Spec.Template.Spec;
        var web = Assert.Single(pod.Containers);
        var sync = Assert.Single(pod.InitContainers);
        Assert.Equal("Always", sync.RestartPolicy);
        Assert.Equal("registry.example.com/team/sidecar-staticweb:1.2.3", web.Image);
        Assert.Equal("registry.example.com/team/sidecar-gitsync:1.2.3", sync.Image);

        var content = Assert.Single(pod.Volumes, v => v.Name == "content");
        Assert.NotNull(content.EmptyDir);
        Assert.Contains(web.VolumeMounts, m => m.Name == "content" && m.MountPath == "/content" && m.ReadOnlyProperty == true);
        Assert.Contains(sync.VolumeMounts, m => m.Name == "content" && m.MountPath == "/content" && m.ReadOnlyProperty != true);
        Assert.Equal("/content/current", web.Env.Single(e => e.Name == "StaticWeb__Root").Value);
        Assert.Equal("webhook", web.Env.Single(e => e.Name == "StaticWeb__RevisionCheck").Value);
        Assert.Equal("main", sync.Env.Single(e => e.Name == "GITSYNC_REF").Value);
        Assert.Equal("http://127.0.0.1:8080/_sidecar/revision", sync.Env.Single(e => e.Name == "GITSYNC_WEBHOOK_URL").Value);

        Assert.Equal("/health", web.ReadinessProbe.HttpGet.Path);
        Assert.Equal("/", sync.StartupProbe.HttpGet.Path);
        foreach (var container in new[] { web, sync })
        {
            Assert.NotNull(container.Resources.Requests["memory"]);
            Assert.NotNull(container.Resources.Limits["memory"]);
            Assert.True(container.SecurityContext.ReadOnlyRootFilesystem);
        }
        Assert.True(pod.SecurityContext.RunAsNonRoot);

        // Credentials travel in a Secret, never inline.
        Assert.Equal(Repo, secret.StringData["repo"]);
        var repoVariable = sync.Env.Single(e => e.Name == "GITSYNC_REPO");
        Assert.Null(repoVariable.Value);
        Assert.Equal(secret.Metadata.Name, repoVariable.ValueFrom.SecretKeyRef.Name);
        Assert.Equal(deployment.Spec.Selector.MatchLabels, service.Spec.Selector);
        Assert.Equal("http", service.Spec.Ports.Single().TargetPort.Value);
    }

    [Fact]
    public async Task TheKubernetesStepWithoutARepoNamesTheParameterToSet()
    {
        var (exitCode, log) = await AppHostProcess.RunAsync("--operation", "publish", "--step", "publish-kubernetes", "--output-path", output.Path);

        Assert.NotEqual(0, exitCode);
        Assert.Contains("--Parameters:repo=", log);
        Assert.False(File.Exists(output.Combine("sidecar.yaml")));
    }

    [Fact]
    public async Task TheComposeStepWritesTwoServicesOnOneNamedVolume()
    {
        var (exitCode, log) = await AppHostProcess.RunAsync("--operation", "publish", "--step", "publish-compose",
            "--output-path", output.Path, $"--Parameters:repo={Repo}");
        Assert.True(exitCode == 0, log);

        var compose = new DeserializerBuilder().Build()
            .Deserialize<Dictionary<string, object>>(await File.ReadAllTextAsync(output.Combine("docker-compose.yaml")));
        var services = (Dictionary<object, object>)compose["services"];
        Assert.Equal(["sync", "web"], services.Keys.Cast<string>().Order());
        var volumes = (Dictionary<object, object>)compose["volumes"];
        var volume = Assert.Single(volumes.Keys.Cast<string>());
        var web = (Dictionary<object, object>)services["web"];
        var sync = (Dictionary<object, object>)services["sync"];
        Assert.Contains($"{volume}:/content:ro", ((List<object>)web["volumes"]).Cast<string>());
        Assert.Contains($"{volume}:/content", ((List<object>)sync["volumes"]).Cast<string>());
        Assert.Equal("/content/current", ((Dictionary<object, object>)web["environment"])["StaticWeb__Root"]);
        Assert.Equal("webhook", ((Dictionary<object, object>)web["environment"])["StaticWeb__RevisionCheck"]);
        Assert.Contains("sync", ((List<object>)web["depends_on"]).Cast<string>());

        // Secrets go to .env beside the compose file, not into it.
        var environment = await File.ReadAllTextAsync(output.Combine(".env"));
        Assert.Contains($"={Repo}", environment);
        Assert.DoesNotContain(Repo, await File.ReadAllTextAsync(output.Combine("docker-compose.yaml")));
    }
}
