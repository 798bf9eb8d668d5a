using System.Globalization;
using k8s;
using k8s.Models;
using Xunit.Abstractions;

namespace Sidecar.Deployment.Tests;

/// <summary>
/// The generated Kubernetes Pod run as the kubelet would run it, in one podman pod: the containers, user,
/// read-only root file system, capabilities, volumes, mounts and environment are read from the generated
/// YAML (the input, not a copy of it), the native sidecar starts first and its startup probe gates the
/// main container. (<c>podman kube play</c> 4.3 cannot: it refuses probes on init containers and
/// <c>stringData</c> Secrets, and waits for a native sidecar to exit.)
/// </summary>
[Trait("Category", "Deployment")]
public sealed class PodDeploymentTests(ITestOutputHelper output) : DeploymentTest(output)
{
    [DeploymentFact]
    public async Task TheGeneratedPodRunsInOnePodmanPod()
    {
        var folder = Publish("publish-kubernetes");
        var objects = KubernetesYaml.LoadAllFromString(await File.ReadAllTextAsync(Path.Combine(folder, "sidecar.yaml")), strict: true);
        var deployment = Assert.Single(objects.OfType<V1Deployment>());
        // The Secrets: in sidecar.yaml, or with their values in sidecar-secrets.yaml where the step writes them apart.
        var secretFile = Path.Combine(folder, "sidecar-secrets.yaml");
        var secrets = objects.OfType<V1Secret>()
            .Concat(File.Exists(secretFile) ? KubernetesYaml.LoadAllFromString(await File.ReadAllTextAsync(secretFile), strict: true).OfType<V1Secret>() : [])
            .GroupBy(s => s.Metadata.Name)
            .ToDictionary(g => g.Key, g => g.Last());
        var spec = deployment.Spec.Template.Spec;
        var sync = Assert.Single(spec.InitContainers);
        Assert.Equal("Always", sync.RestartPolicy);
        var web = Assert.Single(spec.Containers);
        foreach (var image in spec.InitContainers.Concat(spec.Containers).Select(c => c.Image).Distinct())
        {
            Command.Run("podman", ["pull", "-q", "--tls-verify=false", image]);
        }

        var port = FreePort();
        var webPort = web.Ports.Single(p => p.Name == "http").ContainerPort;
        string Logs() => string.Concat(new[] { sync, web }.Select(c =>
            $"--- {c.Name}:\n{Command.TryRun("podman", ["logs", "--tail", "40", $"{Project}-{c.Name}"]).Output}"));
        try
        {
            Command.Run("podman", ["pod", "create", "--name", Project, "--publish", $"127.0.0.1:{port}:{webPort}"]);
            foreach (var volume in spec.Volumes.Where(v => v.EmptyDir is { Medium: not "Memory" }))
            {
                Command.Run("podman", ["volume", "create", $"{Project}-{volume.Name}"]);
            }
            foreach (var container in new[] { sync, web })
            {
                Command.Run("podman", ["create", "--pod", Project, "--name", $"{Project}-{container.Name}",
                    .. SecurityArguments(spec, container), .. MountArguments(spec, container, secrets),
                    .. EnvironmentArguments(container, secrets), container.Image, .. container.Command ?? [], .. container.Args ?? []]);
            }

            // The kubelet's order: the native sidecar starts, its startup probe passes, then the main container starts.
            Command.Run("podman", ["start", $"{Project}-{sync.Name}"]);
            var podAddress = Command.Run("podman", ["inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}",
                Command.Run("podman", ["pod", "inspect", Project, "--format", "{{.InfraContainerID}}"]).Trim()])
                .Split(' ', StringSplitOptions.RemoveEmptyEntries).First();
            var statusUrl = $"http://{podAddress}:{PortOf(sync, sync.StartupProbe.HttpGet.Port)}";
            await WaitForOkAsync(statusUrl + sync.StartupProbe.HttpGet.Path,
                TimeSpan.FromSeconds((sync.StartupProbe.PeriodSeconds ?? 10) * (sync.StartupProbe.FailureThreshold ?? 3)), Logs);
            Command.Run("podman", ["start", $"{Project}-{web.Name}"]);
            await WaitForOkAsync($"http://{podAddress}:{PortOf(web, web.ReadinessProbe.HttpGet.Port)}{web.ReadinessProbe.HttpGet.Path}",
                TimeSpan.FromMinutes(1), Logs);

            var site = $"http://127.0.0.1:{port}";
            await WaitForPageAsync(site, "v1", TimeSpan.FromSeconds(10), Logs);
            // The webhook goes over the Pod's loopback, as the YAML says; a push and POST /sync behave as in Compose.
            await PushAndSyncNowAsync(site, statusUrl, Logs);

            // What the YAML asks of the running containers holds: its user, and a root file system that refuses writes.
            foreach (var container in new[] { sync, web })
            {
                var user = Command.Run("podman", ["inspect", "--format", "{{.Config.User}} {{.HostConfig.ReadonlyRootfs}}", $"{Project}-{container.Name}"]).Trim();
                Assert.Equal($"{RunAsUser(spec, container)}:{RunAsGroup(spec, container)} true", user);
            }
        }
        finally
        {
            Command.TryRun("podman", ["pod", "rm", "--force", "--time", "5", Project]);
            foreach (var volume in spec.Volumes.Where(v => v.EmptyDir is { Medium: not "Memory" }))
            {
                Command.TryRun("podman", ["volume", "rm", "--force", $"{Project}-{volume.Name}"]);
            }
        }
        Assert.DoesNotContain(Project, Command.Run("podman", ["ps", "-a", "--format", "{{.Names}}"]));
        Assert.DoesNotContain(Project, Command.Run("podman", ["volume", "ls", "--format", "{{.Name}}"]));
    }

    private static long RunAsUser(V1PodSpec spec, V1Container container) =>
        container.SecurityContext?.RunAsUser ?? spec.SecurityContext?.RunAsUser ?? throw new InvalidOperationException($"{container.Name} has no runAsUser");

    private static long RunAsGroup(V1PodSpec spec, V1Container container) =>
        container.SecurityContext?.RunAsGroup ?? spec.SecurityContext?.RunAsGroup ?? RunAsUser(spec, container);

    private static IEnumerable<string> SecurityArguments(V1PodSpec spec, V1Container container)
    {
        yield return "--user";
        yield return $"{RunAsUser(spec, container)}:{RunAsGroup(spec, container)}";
        if (spec.SecurityContext?.FsGroup is { } fsGroup)
        {
            yield return "--group-add";
            yield return fsGroup.ToString(CultureInfo.InvariantCulture);
        }
        var context = container.SecurityContext;
        if (context?.ReadOnlyRootFilesystem == true)
        {
            yield return "--read-only";
        }
        if (context?.AllowPrivilegeEscalation == false)
        {
            yield return "--security-opt";
            yield return "no-new-privileges";
        }
        foreach (var capability in context?.Capabilities?.Drop ?? [])
        {
            yield return "--cap-drop";
            yield return capability;
        }
    }

    private IEnumerable<string> MountArguments(V1PodSpec spec, V1Container container, IReadOnlyDictionary<string, V1Secret> secrets)
    {
        foreach (var mount in container.VolumeMounts ?? [])
        {
            var volume = spec.Volumes.Single(v => v.Name == mount.Name);
            var readOnly = mount.ReadOnlyProperty == true ? ",ro" : "";
            if (volume.EmptyDir is { Medium: "Memory" } memory)
            {
                // A memory emptyDir is a tmpfs; the kubelet gives the Pod's fsGroup write access to it.
                var size = memory.SizeLimit is { } limit ? $",tmpfs-size={limit.ToInt64()}" : "";
                yield return "--mount";
                yield return $"type=tmpfs,destination={mount.MountPath},tmpfs-mode=1777{size}{readOnly}";
            }
            else if (volume.EmptyDir is not null)
            {
                yield return "--mount";
                yield return $"type=volume,source={Project}-{volume.Name},destination={mount.MountPath}{readOnly}";
            }
            else if (volume.Secret is { } secretVolume)
            {
                // A Secret volume: its keys as files, read-only.
                var folder = Folder.Combine("secret-" + volume.Name);
                Directory.CreateDirectory(folder);
                foreach (var (key, value) in SecretValues(secrets[secretVolume.SecretName]))
                {
                    File.WriteAllText(Path.Combine(folder, key), value);
                }
                yield return "--mount";
                yield return $"type=bind,source={folder},destination={mount.MountPath},ro";
            }
            else
            {
                throw new NotSupportedException($"volume '{volume.Name}' is neither an emptyDir nor a Secret: the test does not know how to run it");
            }
        }
    }

    private IEnumerable<string> EnvironmentArguments(V1Container container, IReadOnlyDictionary<string, V1Secret> secrets)
    {
        // A Secret written as its shape only (keys, no values) is filled as its creation command would: with the test's values.
        var chosen = new Dictionary<string, string> { ["GITSYNC_REPO"] = Site.Url, ["GITSYNC_WEBHOOK_SECRET"] = WebhookSecret };
        foreach (var variable in container.Env ?? [])
        {
            var value = variable.ValueFrom?.SecretKeyRef is { } reference
                ? secrets.TryGetValue(reference.Name, out var secret) && SecretValues(secret).TryGetValue(reference.Key, out var secretValue) && secretValue.Length > 0
                    ? secretValue
                    : chosen.GetValueOrDefault(variable.Name, $"test-{reference.Name}-{reference.Key}")
                : variable.Value ?? "";
            yield return "--env";
            yield return $"{variable.Name}={value}";
        }
    }

    /// <summary>A Secret's values as the test deployed them: from the YAML where it holds them, else the values the test chose.</summary>
    private static IReadOnlyDictionary<string, string> SecretValues(V1Secret secret)
    {
        var values = new Dictionary<string, string>(secret.StringData ?? new Dictionary<string, string>());
        foreach (var (key, bytes) in secret.Data ?? new Dictionary<string, byte[]>())
        {
            values[key] = System.Text.Encoding.UTF8.GetString(bytes);
        }
        return values;
    }

    private static int PortOf(V1Container container, IntOrString port) =>
        int.TryParse(port.Value, out var number) ? number : container.Ports.Single(p => p.Name == port.Value).ContainerPort;
}
