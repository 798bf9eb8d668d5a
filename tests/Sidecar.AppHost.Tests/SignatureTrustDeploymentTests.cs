using System.Diagnostics;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Deployment;
using Aspire.Hosting.Testing;
using k8s;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using Sidecar.Tests;
using YamlDotNet.Serialization;

namespace Sidecar.AppHost.Tests;

/// <summary>
/// A sidecar that verifies signatures, published: its trust files reach the sidecar container, read-only, where
/// <c>WithSignatureVerification</c> points it, in Kubernetes (a ConfigMap), Compose (files beside the compose file) and azd.
/// </summary>
[Trait("Category", "AppHost")]
public sealed class SignatureTrustDeploymentTests : IDisposable
{
    private const string Repo = "https://example.com/org/site.git";
    private static readonly string StaticWebProject = Path.GetFullPath(Path.Combine(Projects.AppHost.ProjectPath, "..", "src", "Sidecar.StaticWeb", "Sidecar.StaticWeb.csproj"));

    // A binary (not armored) OpenPGP public key packet header: not UTF-8, so it must travel as bytes.
    private static readonly byte[] BinaryKey = [0x99, 0x01, 0x8d, 0x04, 0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28];

    private readonly TempFolder work = new("sidecar-trust");
    private readonly string allowedSigners;
    private readonly string keys;

    public SignatureTrustDeploymentTests()
    {
        var key = work.Combine("id_ed25519");
        using (var keygen = Process.Start("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "alice@example.com", "-f", key]))
        {
            keygen.WaitForExit();
            Assert.Equal(0, keygen.ExitCode);
        }
        var publicKey = File.ReadAllText(key + ".pub").Split(' ');
        allowedSigners = work.Combine("allowed_signers");
        File.WriteAllText(allowedSigners, $"alice@example.com namespaces=\"git\" {publicKey[0]} {publicKey[1]}\n");
        keys = work.Combine("keys");
        Directory.CreateDirectory(keys);
        File.WriteAllText(Path.Combine(keys, "bob.asc"), "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZ0bob\n=AbCd\n-----END PGP PUBLIC KEY BLOCK-----\n");
        File.WriteAllBytes(Path.Combine(keys, "carol.gpg"), BinaryKey);
        // The sidecar skips dot files in a key folder; so does the deployment.
        File.WriteAllText(Path.Combine(keys, ".notes"), "not a key");
    }

    public void Dispose() => work.Dispose();

    private void Verify(IResourceBuilder<GitSyncResource> sync) =>
        sync.WithSignatureVerification(GitSyncSignatureMode.Enforce, allowedSignersFile: allowedSigners, openPgpKeys: keys);

    [Fact]
    public async Task TheKubernetesStepPutsTheTrustFilesInAConfigMapMountedReadOnlyIntoTheSidecarOnly()
    {
        await PublishAsync(work.Combine("k8s"), DeploymentSteps.Kubernetes, Verify);

        var objects = KubernetesYaml.LoadAllFromString(await File.ReadAllTextAsync(work.Combine("k8s", "sidecar.yaml")), strict: true);
        var trust = Assert.Single(objects.OfType<V1ConfigMap>());
        // Applied before the Deployment that mounts it.
        Assert.True(objects.IndexOf(trust) < objects.IndexOf(objects.OfType<V1Deployment>().Single()));
        Assert.Equal("web-git-trust", trust.Metadata.Name);
        Assert.Equal(["allowed_signers", "bob.asc"], trust.Data.Keys.Order());
        Assert.Equal(await File.ReadAllTextAsync(allowedSigners), trust.Data["allowed_signers"]);
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(keys, "bob.asc")), trust.Data["bob.asc"]);
        Assert.Equal(BinaryKey, Assert.Single(trust.BinaryData, k => k.Key == "carol.gpg").Value);

        var pod = objects.OfType<V1Deployment>().Single().Spec.Template.Spec;
        var sync = pod.InitContainers.Single();
        var web = pod.Containers.Single();
        var volume = Assert.Single(pod.Volumes, v => v.ConfigMap is not null);
        Assert.Equal("web-git-trust", volume.ConfigMap.Name);
        Assert.Equal("444", Convert.ToString(volume.ConfigMap.DefaultMode!.Value, 8));
        var items = volume.ConfigMap.Items.ToDictionary(i => i.Key, i => i.Path);
        Assert.Equal(new Dictionary<string, string>
        {
            ["allowed_signers"] = "allowed_signers",
            ["bob.asc"] = "openpgp-keys/bob.asc",
            ["carol.gpg"] = "openpgp-keys/carol.gpg",
        }, items);

        // The whole volume, read-only, no subPath: an updated ConfigMap reaches the running sidecar.
        var mount = Assert.Single(sync.VolumeMounts, m => m.Name == volume.Name);
        Assert.Equal(("/etc/git-trust", true, null), (mount.MountPath, mount.ReadOnlyProperty, mount.SubPath));
        Assert.DoesNotContain(web.VolumeMounts, m => m.Name == volume.Name);
        Assert.DoesNotContain(web.Env, e => e.Name.StartsWith("GITSYNC_", StringComparison.Ordinal));

        // The sidecar's environment points inside the mount, at the files the items put there.
        Assert.Equal("enforce", sync.Env.Single(e => e.Name == "GITSYNC_VERIFY_SIGNATURES").Value);
        var signersFile = sync.Env.Single(e => e.Name == "GITSYNC_ALLOWED_SIGNERS_FILE").Value;
        Assert.Equal($"{mount.MountPath}/{items["allowed_signers"]}", signersFile);
        var keyFolder = sync.Env.Single(e => e.Name == "GITSYNC_OPENPGP_KEYS").Value;
        Assert.All(new[] { "bob.asc", "carol.gpg" }, key => Assert.Equal($"{keyFolder}/{key}", $"{mount.MountPath}/{items[key]}"));
    }

    [Fact]
    public async Task TheComposeStepMountsTheTrustFilesReadOnlyFromBesideTheComposeFile()
    {
        var output = work.Combine("compose");
        // A key left by an earlier publish must not stay trusted.
        Directory.CreateDirectory(Path.Combine(output, "trust", "sync", "openpgp-keys"));
        await File.WriteAllTextAsync(Path.Combine(output, "trust", "sync", "openpgp-keys", "revoked.asc"), "old key");

        await PublishAsync(output, DeploymentSteps.Compose, Verify);

        var (sync, web) = ReadCompose(output);
        var volumes = ((List<object>)sync["volumes"]).Cast<string>().ToList();
        var trustMount = Assert.Single(volumes, v => v.Contains(":/etc/git-trust", StringComparison.Ordinal));
        var (source, target, mode) = (trustMount.Split(':')[0], trustMount.Split(':')[1], trustMount.Split(':')[2]);
        Assert.Equal(("/etc/git-trust", "ro"), (target, mode));
        Assert.StartsWith("./", source);
        Assert.DoesNotContain(((List<object>)web["volumes"]).Cast<string>(), v => v.Contains("git-trust", StringComparison.Ordinal));

        // The files are where the mount says, relative to docker-compose.yaml, at the paths the environment names.
        var hostFolder = Path.GetFullPath(Path.Combine(output, source));
        var environment = (Dictionary<object, object>)sync["environment"];
        string OnHost(string containerPath) => Path.Combine(hostFolder, Path.GetRelativePath(target, containerPath));
        Assert.Equal(await File.ReadAllBytesAsync(allowedSigners), await File.ReadAllBytesAsync(OnHost((string)environment["GITSYNC_ALLOWED_SIGNERS_FILE"])));
        var keyFolder = OnHost((string)environment["GITSYNC_OPENPGP_KEYS"]);
        Assert.Equal(["bob.asc", "carol.gpg"], Directory.GetFiles(keyFolder).Select(Path.GetFileName).Order());
        Assert.Equal(BinaryKey, await File.ReadAllBytesAsync(Path.Combine(keyFolder, "carol.gpg")));
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(keys, "bob.asc")), await File.ReadAllBytesAsync(Path.Combine(keyFolder, "bob.asc")));
        // Readable by the container's user, whoever it is.
        Assert.True(File.GetUnixFileMode(Path.Combine(keyFolder, "bob.asc")).HasFlag(UnixFileMode.OtherRead));

        // docker-compose 1.29 reads the file and resolves the mount to the folder written beside it.
        var config = new ProcessStartInfo("docker-compose", ["-f", Path.Combine(output, "docker-compose.yaml"), "config"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var compose = Process.Start(config)!;
        var resolved = compose.StandardOutput.ReadToEndAsync();
        var errors = compose.StandardError.ReadToEndAsync();
        await compose.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token);
        Assert.True(compose.ExitCode == 0, await errors);
        Assert.Contains($"{hostFolder}:/etc/git-trust:ro", await resolved);
    }

    [Fact]
    public async Task TheAzdTemplateIsStillTheKubernetesStepsDeploymentAndCarriesTheSameConfigMap()
    {
        await PublishAsync(work.Combine("k8s"), DeploymentSteps.Kubernetes, Verify);
        await PublishAsync(work.Combine("azd"), DeploymentSteps.Azd, Verify);

        var fromKubernetesStep = KubernetesYaml.LoadAllFromString(await File.ReadAllTextAsync(work.Combine("k8s", "sidecar.yaml")), strict: true);
        var rendered = (await File.ReadAllTextAsync(work.Combine("azd", "web", "manifests", "deployment.tmpl.yaml")))
            .Replace("{{ .Env.SERVICE_WEB_IMAGE_NAME }}", "registry.example.com/team/sidecar-staticweb:latest")
            .Replace("{{ .Env.SERVICE_SYNC_IMAGE_NAME }}", "registry.example.com/team/sidecar-gitsync:latest");
        Assert.Equal(KubernetesYaml.Serialize(fromKubernetesStep.OfType<V1Deployment>().Single()),
            KubernetesYaml.Serialize(KubernetesYaml.Deserialize<V1Deployment>(rendered, strict: true)));
        // Beside the Deployment in the folder azd applies, as a plain manifest (no template actions in key files).
        var trust = KubernetesYaml.Deserialize<V1ConfigMap>(await File.ReadAllTextAsync(work.Combine("azd", "web", "manifests", "git-trust.yaml")), strict: true);
        Assert.Equal(KubernetesYaml.Serialize(fromKubernetesStep.OfType<V1ConfigMap>().Single()), KubernetesYaml.Serialize(trust));
    }

    [Fact]
    public async Task ForAzdATrustFileWithADollarIsRefusedBecauseAzdsEnvsubstWouldChangeIt()
    {
        File.AppendAllText(allowedSigners, "# rotated by $OPERATOR\n");
        var builder = DistributedApplicationTestingBuilder.Create(["--operation", "publish"]);
        var sync = builder.AddGitSync("sync", builder.AddParameter("repo", "https://example.com/org/site.git"), builder.AddSharedContent("content", work.Combine("unused")));
        builder.AddProject("web", StaticWebProject).WithHttpEndpoint().WithGitSyncSidecar(sync);
        Verify(sync);
        await using var app = builder.Build();
        var model = app.Services.GetRequiredService<DistributedApplicationModel>();
        var pod = Assert.Single(await SidecarPod.FromModelAsync(model, app.Services.GetRequiredService<DistributedApplicationExecutionContext>(),
            app.Services.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>(), CancellationToken.None, AzdProject.TemplateImage));
        var settings = DeploymentSettings.From(app.Services.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>());

        var error = Assert.Throws<InvalidOperationException>(() => AzdProject.TrustTemplate(pod, settings));
        Assert.Contains(allowedSigners, error.Message);
        Assert.Contains("'$'", error.Message);
        // The Kubernetes step applies files as they are: there the '$' is kept.
        Assert.Contains("$OPERATOR", KubernetesManifests.TrustConfigMap(pod, settings)!.Data["allowed_signers"]);
    }

    [Fact]
    public async Task WithoutSignatureVerificationNoOutputHasTrustFiles()
    {
        var compose = work.Combine("compose");
        Directory.CreateDirectory(Path.Combine(compose, "trust", "sync"));
        await File.WriteAllTextAsync(Path.Combine(compose, "trust", "sync", "allowed_signers"), "from an earlier publish");
        Directory.CreateDirectory(work.Combine("azd", "web", "manifests"));
        await File.WriteAllTextAsync(work.Combine("azd", "web", "manifests", "git-trust.yaml"), "from an earlier publish");

        await PublishAsync(work.Combine("k8s"), DeploymentSteps.Kubernetes, _ => { });
        await PublishAsync(compose, DeploymentSteps.Compose, _ => { });
        await PublishAsync(work.Combine("azd"), DeploymentSteps.Azd, _ => { });

        var text = await File.ReadAllTextAsync(work.Combine("k8s", "sidecar.yaml"));
        var objects = KubernetesYaml.LoadAllFromString(text, strict: true);
        Assert.Empty(objects.OfType<V1ConfigMap>());
        var pod = objects.OfType<V1Deployment>().Single().Spec.Template.Spec;
        Assert.DoesNotContain(pod.Volumes, v => v.ConfigMap is not null);
        Assert.DoesNotContain(pod.InitContainers.Single().Env, e => e.Name is "GITSYNC_VERIFY_SIGNATURES" or "GITSYNC_ALLOWED_SIGNERS_FILE" or "GITSYNC_OPENPGP_KEYS");
        Assert.DoesNotContain("git-trust", text);

        var (sync, _) = ReadCompose(compose);
        Assert.DoesNotContain(((List<object>)sync["volumes"]).Cast<string>(), v => v.Contains("git-trust", StringComparison.Ordinal));
        Assert.False(Directory.Exists(Path.Combine(compose, "trust")));
        Assert.False(File.Exists(work.Combine("azd", "web", "manifests", "git-trust.yaml")));
    }

    [Fact]
    public async Task AKeyFileNameThatCannotBeAConfigMapKeyIsNamedWithTheFixAndNothingIsWritten()
    {
        File.WriteAllText(Path.Combine(keys, "dave key.asc"), "-----BEGIN PGP PUBLIC KEY BLOCK-----\n");
        var builder = DistributedApplicationTestingBuilder.Create(["--operation", "publish"]);
        var sync = builder.AddGitSync("sync", builder.AddParameter("repo"), builder.AddSharedContent("content", work.Combine("unused")));
        Verify(sync);

        var error = Assert.Throws<InvalidOperationException>(() => SignatureTrust.Of(sync.Resource));
        Assert.Contains("'dave key.asc'", error.Message);
        Assert.Contains("rename it", error.Message);

        // The publish step fails on it (the step sets the exit code a script sees) before it writes anything.
        var exitCode = Environment.ExitCode;
        try
        {
            await PublishAsync(work.Combine("k8s"), DeploymentSteps.Kubernetes, Verify);
            Assert.Equal(1, Environment.ExitCode);
        }
        finally
        {
            Environment.ExitCode = exitCode;
        }
        Assert.False(File.Exists(work.Combine("k8s", "sidecar.yaml")));
    }

    private static (Dictionary<object, object> Sync, Dictionary<object, object> Web) ReadCompose(string output)
    {
        var compose = new DeserializerBuilder().Build()
            .Deserialize<Dictionary<string, object>>(File.ReadAllText(Path.Combine(output, "docker-compose.yaml")));
        var services = (Dictionary<object, object>)compose["services"];
        return ((Dictionary<object, object>)services["sync"], (Dictionary<object, object>)services["web"]);
    }

    /// <summary>The sidecar pattern in publish mode, as the AppHost builds it, with the test's additions, through the real publish pipeline.</summary>
    private static async Task PublishAsync(string outputPath, string step, Action<IResourceBuilder<GitSyncResource>> configureSync)
    {
        var builder = DistributedApplicationTestingBuilder.Create(
            ["--operation", "publish", "--output-path", outputPath, "--step", step, $"--Parameters:repo={Repo}",
             "--Sidecar:ImageRegistry=registry.example.com/team"]);
        var content = builder.AddSharedContent("content", Path.Combine(outputPath, "unused"));
        var sync = builder.AddGitSync("sync", builder.AddParameter("repo"), content);
        builder.AddProject("web", StaticWebProject).WithHttpEndpoint().WithExternalHttpEndpoints().WithGitSyncSidecar(sync);
        configureSync(sync);
        builder.AddSidecarDeploymentSteps();
        await using var app = builder.Build();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await app.RunAsync(timeout.Token);
    }
}
