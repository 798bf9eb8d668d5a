using System.Text.Json;
using k8s;
using k8s.Models;
using Sidecar.Tests;
using YamlDotNet.Serialization;

namespace Sidecar.AppHost.Tests;

/// <summary>The AppHost's publish operations, run as a user runs them, and their output read back strictly.</summary>
[Trait("Category", "AppHost")]
public sealed class PublishTests : IDisposable
{
    private const string Repo = "https://example.com/org/site.git";
    private readonly TempFolder output = new("sidecar-publish");

    public void Dispose() => output.Dispose();

    // The manifest types azd's loader accepts (Azure/azure-dev cli/azd/pkg/apphost); it stops on any other.
    private static readonly string[] AzdManifestTypes =
        ["project.v0", "project.v1", "container.v0", "container.v1", "dockerfile.v0", "parameter.v0", "value.v0", "annotated.string"];

    private static readonly string[] Registry = ["--Sidecar:ImageRegistry=registry.example.com/team", "--Sidecar:ImageTag=1.2.3"];

    [Fact]
    public async Task TheManifestHoldsBothServicesAndTheParametersInTypesAzdAccepts()
    {
        var (exitCode, log) = await AppHostProcess.RunAsync("--operation", "publish", "--publisher", "manifest",
            "--output-path", output.Combine("aspire-manifest.json"));
        Assert.True(exitCode == 0, log);

        using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(output.Combine("aspire-manifest.json")));
        var resources = manifest.RootElement.GetProperty("resources");
        Assert.All(resources.EnumerateObject(), r => Assert.True(
            AzdManifestTypes.Contains(r.Value.GetProperty("type").GetString()) || r.Value.GetProperty("type").GetString()!.StartsWith("azure.bicep.", StringComparison.Ordinal),
            $"{r.Name} has the type {r.Value.GetProperty("type")}, which azd refuses"));
        Assert.Equal("project.v0", resources.GetProperty("web").GetProperty("type").GetString());
        Assert.Equal("project.v0", resources.GetProperty("sync").GetProperty("type").GetString());
        // The shared folder is part of the Pod, not a resource of its own.
        Assert.False(resources.TryGetProperty("content", out _));
        foreach (var parameter in new[] { "repo", "ref", "period", "replicas", "sync-webhook-secret", "web-revision-webhook-secret" })
        {
            Assert.Equal("parameter.v0", resources.GetProperty(parameter).GetProperty("type").GetString());
        }
        Assert.True(resources.GetProperty("sync-webhook-secret").GetProperty("inputs").GetProperty("value").GetProperty("secret").GetBoolean());
        var syncEnv = resources.GetProperty("sync").GetProperty("env");
        Assert.Equal("{repo.value}", syncEnv.GetProperty("GITSYNC_REPO").GetString());
        Assert.Equal("/app/content", syncEnv.GetProperty("GITSYNC_ROOT").GetString());
        Assert.Equal("{web-revision-webhook-secret.value}", syncEnv.GetProperty("GITSYNC_WEBHOOK_TOKEN").GetString());
        Assert.Equal("/app/content/current", resources.GetProperty("web").GetProperty("env").GetProperty("StaticWeb__Root").GetString());
        // Told of every revision by the sidecar's webhook, the server does not read the link per request.
        Assert.Equal("webhook", resources.GetProperty("web").GetProperty("env").GetProperty("StaticWeb__RevisionCheck").GetString());
        // The demo origin runs only on this machine; a deployment syncs the repo parameter.
        Assert.False(resources.TryGetProperty("origin", out _));
    }

    [Fact]
    public async Task TheKubernetesStepPutsWebAndGitSyncInOnePodAPlatformAccepts()
    {
        var (exitCode, log) = await AppHostProcess.RunAsync(["--operation", "publish", "--step", "publish-kubernetes",
            "--output-path", output.Path, $"--Parameters:repo={Repo}", "--Parameters:replicas=3", "--Parameters:ref=main",
            "--Sidecar:Instance=blue", "--Sidecar:ImagePullSecret=regcred", "--Sidecar:GitCredentials=password", "--Sidecar:GitUsername=git", .. Registry]);
        Assert.True(exitCode == 0, log);

        var objects = KubernetesYaml.LoadAllFromString(await File.ReadAllTextAsync(output.Combine("sidecar.yaml")), strict: true);
        var deployment = Assert.Single(objects.OfType<V1Deployment>());
        var service = Assert.Single(objects.OfType<V1Service>());
        // Secret values are not written by default: the script creates them.
        Assert.Empty(objects.OfType<V1Secret>());

        Assert.Equal(3, deployment.Spec.Replicas);
        Assert.Equal(("blue-web", "blue-web"), (deployment.Metadata.Name, service.Metadata.Name));
        Assert.Equal("blue", deployment.Spec.Selector.MatchLabels["app.kubernetes.io/instance"]);
        var pod = deployment.Spec.Template.Spec;
        var web = Assert.Single(pod.Containers);
        var sync = Assert.Single(pod.InitContainers);
        Assert.Equal("Always", sync.RestartPolicy);
        Assert.Equal("registry.example.com/team/sidecar-staticweb:1.2.3", web.Image);
        Assert.Equal("registry.example.com/team/sidecar-gitsync:1.2.3", sync.Image);
        Assert.False(pod.AutomountServiceAccountToken);
        Assert.Equal("regcred", Assert.Single(pod.ImagePullSecrets).Name);

        var content = Assert.Single(pod.Volumes, v => v.Name == "content");
        Assert.All(pod.Volumes.Where(v => v.EmptyDir is not null), v => Assert.NotNull(v.EmptyDir.SizeLimit));
        Assert.Contains(web.VolumeMounts, m => m.Name == "content" && m.MountPath == "/app/content" && m.ReadOnlyProperty == true);
        Assert.Contains(sync.VolumeMounts, m => m.Name == "content" && m.MountPath == "/app/content" && m.ReadOnlyProperty != true);
        // A /tmp of its own for each container.
        var webTmp = web.VolumeMounts.Single(m => m.MountPath == "/tmp").Name;
        var syncTmp = sync.VolumeMounts.Single(m => m.MountPath == "/tmp").Name;
        Assert.NotEqual(webTmp, syncTmp);
        Assert.All(new[] { webTmp, syncTmp }, name => Assert.Equal("Memory", pod.Volumes.Single(v => v.Name == name).EmptyDir.Medium));

        Assert.Equal("/app/content/current", web.Env.Single(e => e.Name == "StaticWeb__Root").Value);
        Assert.Equal("webhook", web.Env.Single(e => e.Name == "StaticWeb__RevisionCheck").Value);
        Assert.Equal("main", sync.Env.Single(e => e.Name == "GITSYNC_REF").Value);
        Assert.Equal(Repo, sync.Env.Single(e => e.Name == "GITSYNC_REPO").Value);
        Assert.Equal("http://127.0.0.1:8080/_sidecar/revision", sync.Env.Single(e => e.Name == "GITSYNC_WEBHOOK_URL").Value);
        Assert.Equal(8080, web.Ports.Single(p => p.Name == "http").ContainerPort);

        // Secrets come from the Secret the script creates, by reference.
        foreach (var (container, name, key) in new[] { (sync, "GITSYNC_WEBHOOK_SECRET", "sync-webhook-secret"), (sync, "GITSYNC_WEBHOOK_TOKEN", "web-revision-webhook-secret"),
                     (web, "StaticWeb__RevisionWebhookSecret", "web-revision-webhook-secret") })
        {
            var variable = container.Env.Single(e => e.Name == name);
            Assert.Null(variable.Value);
            Assert.Equal(("blue-web-secrets", key), (variable.ValueFrom.SecretKeyRef.Name, variable.ValueFrom.SecretKeyRef.Key));
        }
        // The repository password is a file from its own Secret, mounted read-only beside the sidecar only.
        Assert.Equal("/etc/git-secret/password", sync.Env.Single(e => e.Name == "GITSYNC_PASSWORD_FILE").Value);
        var gitSecret = pod.Volumes.Single(v => v.Secret is not null);
        Assert.Equal(("blue-web-git", "400"), (gitSecret.Secret.SecretName, Convert.ToString(gitSecret.Secret.DefaultMode!.Value, 8)));
        Assert.Contains(sync.VolumeMounts, m => m.Name == gitSecret.Name && m.MountPath == "/etc/git-secret" && m.ReadOnlyProperty == true);
        Assert.DoesNotContain(web.VolumeMounts, m => m.Name == gitSecret.Name);
        var script = await File.ReadAllTextAsync(output.Combine("create-secrets.sh"));
        Assert.Contains("kubectl create secret generic blue-web-secrets", script);
        Assert.Contains("--from-literal=sync-webhook-secret=", script);
        Assert.Contains("kubectl create secret generic blue-web-git --from-file=password=", script);
        Assert.Contains(".env", await File.ReadAllTextAsync(output.Combine(".gitignore")));
        Assert.Contains("sidecar-secrets.yaml", await File.ReadAllTextAsync(output.Combine(".gitignore")));

        Assert.Equal("/health", web.ReadinessProbe.HttpGet.Path);
        Assert.Equal("/", sync.StartupProbe.HttpGet.Path);
        foreach (var container in new[] { web, sync })
        {
            Assert.NotNull(container.Resources.Requests["memory"]);
            Assert.NotNull(container.Resources.Limits["memory"]);
            Assert.True(container.SecurityContext.ReadOnlyRootFilesystem);
        }
        Assert.True(pod.SecurityContext.RunAsNonRoot);
        Assert.Equal(deployment.Spec.Selector.MatchLabels, service.Spec.Selector);
        Assert.Equal("http", service.Spec.Ports.Single().TargetPort.Value);
    }

    [Fact]
    public async Task SecretValuesAreWrittenOnlyWhenAskedAndThenOnlyForTheOwner()
    {
        const string Known = "known-sync-secret-7d3a";
        var (exitCode, log) = await AppHostProcess.RunAsync(["--operation", "publish", "--step", "publish-kubernetes",
            "--output-path", output.Path, $"--Parameters:repo={Repo}", $"--Parameters:sync-webhook-secret={Known}", "--Sidecar:WriteSecretValues=true", .. Registry]);
        Assert.True(exitCode == 0, log);

        var secret = Assert.Single(KubernetesYaml.LoadAllFromString(await File.ReadAllTextAsync(output.Combine("sidecar-secrets.yaml")), strict: true).OfType<V1Secret>());
        Assert.Equal(Known, secret.StringData["sync-webhook-secret"]);
        Assert.False(string.IsNullOrEmpty(secret.StringData["web-revision-webhook-secret"]));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(output.Combine("sidecar-secrets.yaml")));
        Assert.DoesNotContain(Known, await File.ReadAllTextAsync(output.Combine("sidecar.yaml")));
        Assert.DoesNotContain(Known, log);
    }

    [Theory]
    [InlineData("publish-kubernetes")]
    [InlineData("publish-compose")]
    public async Task WithoutARegistryTheStepRefusesToWriteBareImageNames(string step)
    {
        var (exitCode, log) = await AppHostProcess.RunAsync("--operation", "publish", "--step", step, "--output-path", output.Path, $"--Parameters:repo={Repo}");

        Assert.NotEqual(0, exitCode);
        Assert.Contains("--Sidecar:ImageRegistry=", log);
        Assert.Empty(Directory.EnumerateFileSystemEntries(output.Path));
    }

    [Fact]
    public async Task AnOutputPathThatCannotBeWrittenFailsTheStepForTheScriptThatRanIt()
    {
        var taken = output.Combine("taken");
        await File.WriteAllTextAsync(taken, "a file where the output folder should be");

        var (exitCode, log) = await AppHostProcess.RunAsync(["--operation", "publish", "--step", "publish-kubernetes", "--output-path", taken,
            $"--Parameters:repo={Repo}", .. Registry]);

        Assert.NotEqual(0, exitCode);
        Assert.Contains(taken, log);
    }

    [Fact]
    public async Task ARepositoryUrlWithAPasswordIsRefusedWithTheWayThatKeepsItOffTheVolume()
    {
        var (exitCode, log) = await AppHostProcess.RunAsync(["--operation", "publish", "--step", "publish-kubernetes", "--output-path", output.Path,
            "--Parameters:repo=https://me:hunter2@example.com/org/site.git", .. Registry]);

        Assert.NotEqual(0, exitCode);
        Assert.Contains("--Sidecar:GitCredentials=password", log);
        Assert.DoesNotContain("hunter2", log);
        Assert.False(File.Exists(output.Combine("sidecar.yaml")));
    }

    [Fact]
    public async Task AnotherMainServerImageIsProbedOnItsPortNotOnTheHealthPathsOfOurs()
    {
        var (exitCode, log) = await AppHostProcess.RunAsync(["--operation", "publish", "--step", "publish-kubernetes", "--output-path", output.Path,
            $"--Parameters:repo={Repo}", "--Sidecar:Images:web=nginx:1.27", .. Registry]);
        Assert.True(exitCode == 0, log);

        var web = KubernetesYaml.LoadAllFromString(await File.ReadAllTextAsync(output.Combine("sidecar.yaml")), strict: true)
            .OfType<V1Deployment>().Single().Spec.Template.Spec.Containers.Single();
        Assert.Equal("nginx:1.27", web.Image);
        Assert.Null(web.ReadinessProbe.HttpGet);
        Assert.Equal("http", web.ReadinessProbe.TcpSocket.Port.Value);
        Assert.Equal("http", web.LivenessProbe.TcpSocket.Port.Value);
    }

    [Fact]
    public async Task TheAzdTemplatesRenderedWithAzdsImageVariablesAreThePodTheKubernetesStepWrites()
    {
        var (exitCode, log) = await AppHostProcess.RunAsync(["--operation", "publish", "--step", "publish-kubernetes", "--output-path", output.Combine("k8s"),
            $"--Parameters:repo={Repo}", .. Registry]);
        Assert.True(exitCode == 0, log);
        (exitCode, log) = await AppHostProcess.RunAsync("--operation", "publish", "--step", "publish-azd", "--output-path", output.Combine("azd"),
            $"--Parameters:repo={Repo}");
        Assert.True(exitCode == 0, log);

        var azure = new DeserializerBuilder().Build().Deserialize<Dictionary<string, object>>(await File.ReadAllTextAsync(output.Combine("azd", "azure.yaml")));
        var services = (Dictionary<object, object>)azure["services"];
        var repositoryRoot = Path.GetFullPath(Path.Combine(Projects.AppHost.ProjectPath, ".."));
        foreach (var (name, project) in new[] { ("web", "Sidecar.StaticWeb"), ("sync", "Sidecar.GitSync") })
        {
            var service = (Dictionary<object, object>)services[name];
            Assert.Equal(("dotnet", "aks"), ((string)service["language"], (string)service["host"]));
            var projectDirectory = Path.GetFullPath(Path.Combine(output.Combine("azd"), (string)service["project"]));
            Assert.Equal(Path.Combine(repositoryRoot, "src", project), projectDirectory);
            var docker = (Dictionary<object, object>)service["docker"];
            Assert.Equal("Dockerfile", docker["path"]);
            Assert.Equal(repositoryRoot, Path.GetFullPath(Path.Combine(projectDirectory, (string)docker["context"])));
            // The Dockerfile copies the build published into out/publish/<repository> (its PUBLISH_DIR) before azd builds the image.
            var prepackage = (string)((Dictionary<object, object>)((Dictionary<object, object>)service["hooks"])["prepackage"])["run"];
            Assert.Equal(Path.Combine(repositoryRoot, "out", "publish", project.Replace('.', '-').ToLowerInvariant()),
                Path.GetFullPath(Path.Combine(projectDirectory, prepackage.Split(" -o ")[1])));
            var manifests = Path.GetFullPath(Path.Combine(projectDirectory, (string)((Dictionary<object, object>)service["k8s"])["deploymentPath"]));
            Assert.NotEmpty(Directory.GetFiles(manifests, "*.tmpl.yaml"));
        }
        Assert.Equal(["sync"], ((List<object>)((Dictionary<object, object>)services["web"])["uses"]).Cast<string>());

        // azd renders {{ .Env.NAME }} with the images it built and pushed.
        var template = await File.ReadAllTextAsync(output.Combine("azd", "web", "manifests", "deployment.tmpl.yaml"));
        var rendered = template
            .Replace("{{ .Env.SERVICE_WEB_IMAGE_NAME }}", "registry.example.com/team/sidecar-staticweb:1.2.3")
            .Replace("{{ .Env.SERVICE_SYNC_IMAGE_NAME }}", "registry.example.com/team/sidecar-gitsync:1.2.3");
        Assert.DoesNotContain("{{", rendered);
        var fromAzd = KubernetesYaml.Deserialize<V1Deployment>(rendered, strict: true);
        var fromKubernetesStep = KubernetesYaml.LoadAllFromString(await File.ReadAllTextAsync(output.Combine("k8s", "sidecar.yaml")), strict: true)
            .OfType<V1Deployment>().Single();
        Assert.Equal(KubernetesYaml.Serialize(fromKubernetesStep), KubernetesYaml.Serialize(fromAzd));
        // azd needs manifests for the sidecar's service too: they hold nothing that runs.
        var note = KubernetesYaml.Deserialize<V1ConfigMap>(await File.ReadAllTextAsync(output.Combine("azd", "sync", "manifests", "sidecar-note.tmpl.yaml")), strict: true);
        Assert.Equal("deployment/web", note.Data["runs-in"]);
    }

    [Fact]
    public async Task TheKubernetesStepWithoutARepoNamesTheParameterToSet()
    {
        var (exitCode, log) = await AppHostProcess.RunAsync(["--operation", "publish", "--step", "publish-kubernetes", "--output-path", output.Path, .. Registry]);

        Assert.NotEqual(0, exitCode);
        Assert.Contains("--Parameters:repo=", log);
        Assert.False(File.Exists(output.Combine("sidecar.yaml")));
    }

    [Fact]
    public async Task TheComposeStepWritesTwoServicesOnOneNamedVolumeInAFileDockerCompose129Loads()
    {
        var (exitCode, log) = await AppHostProcess.RunAsync(["--operation", "publish", "--step", "publish-compose",
            "--output-path", output.Path, $"--Parameters:repo={Repo}", .. Registry]);
        Assert.True(exitCode == 0, log);

        var text = await File.ReadAllTextAsync(output.Combine("docker-compose.yaml"));
        var compose = new DeserializerBuilder().Build().Deserialize<Dictionary<string, object>>(text);
        // docker-compose 1.29 refuses a top-level name and unquoted booleans or numbers among environment values.
        Assert.Equal(["services", "volumes"], compose.Keys.Order());
        Assert.Contains("\"GITSYNC_HTTP_METRICS\": \"true\"", text);
        var services = (Dictionary<object, object>)compose["services"];
        Assert.Equal(["sync", "web"], services.Keys.Cast<string>().Order());
        var volumes = (Dictionary<object, object>)compose["volumes"];
        var volume = Assert.Single(volumes.Keys.Cast<string>());
        var web = (Dictionary<object, object>)services["web"];
        var sync = (Dictionary<object, object>)services["sync"];
        var webEnvironment = (Dictionary<object, object>)web["environment"];
        var syncEnvironment = (Dictionary<object, object>)sync["environment"];
        Assert.Contains($"{volume}:/app/content:ro", ((List<object>)web["volumes"]).Cast<string>());
        Assert.Contains($"{volume}:/app/content", ((List<object>)sync["volumes"]).Cast<string>());
        Assert.Equal("/app/content/current", webEnvironment["StaticWeb__Root"]);
        Assert.Equal("webhook", webEnvironment["StaticWeb__RevisionCheck"]);
        Assert.Contains("sync", ((List<object>)web["depends_on"]).Cast<string>());

        // The webhook goes by service name and authenticates with a header; its secret is in no URL.
        Assert.Equal("http://web:8080/_sidecar/revision", syncEnvironment["GITSYNC_WEBHOOK_URL"]);
        Assert.Equal("${WEB_REVISION_WEBHOOK_SECRET}", syncEnvironment["GITSYNC_WEBHOOK_TOKEN"]);
        Assert.Equal("${WEB_REVISION_WEBHOOK_SECRET}", webEnvironment["StaticWeb__RevisionWebhookSecret"]);
        Assert.Equal("${SYNC_WEBHOOK_SECRET}", syncEnvironment["GITSYNC_WEBHOOK_SECRET"]);

        // No values by default: the script writes .env, for its owner only.
        Assert.False(File.Exists(output.Combine(".env")));
        using var script = System.Diagnostics.Process.Start("/bin/sh", output.Combine("create-secrets.sh"));
        await script.WaitForExitAsync();
        Assert.Equal(0, script.ExitCode);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(output.Combine(".env")));
        var environment = (await File.ReadAllLinesAsync(output.Combine(".env"))).Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        Assert.Equal(["SYNC_WEBHOOK_SECRET", "WEB_REVISION_WEBHOOK_SECRET"], environment.Keys.Order());
        Assert.All(environment.Values, v => Assert.Equal(64, v.Length));
        Assert.Contains(".env", await File.ReadAllTextAsync(output.Combine(".gitignore")));
    }
}
