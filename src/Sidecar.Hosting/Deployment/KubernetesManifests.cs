using System.Globalization;
using System.Text;
using Aspire.Hosting.ApplicationModel;
using k8s;
using k8s.Models;

namespace Aspire.Hosting.Deployment;

/// <summary>
/// Writes a main server and its git-sync sidecar as ONE Pod: the sidecar is a native sidecar (an init
/// container with <c>restartPolicy: Always</c>, so it starts first and stops last), both mount one
/// emptyDir, and the main container starts only once content is published. Environment, arguments and
/// ports come from the app model; secret parameters become references to a Secret the user creates.
/// </summary>
public static class KubernetesManifests
{
    private const string ContentVolume = "content";
    private const string GitSecretVolume = "git-secret";
    private const string GitTrustVolume = "git-trust";
    private const long AppUserId = 1654; // the "app" user of the .NET container images
    private const int ReadOnlyByOwner = 0b100_000_000; // 0400: kubelet adds group read for fsGroup
    private const int ReadOnlyByAll = 0b100_100_100; // 0444: public keys, readable by any user, writable by none

    /// <summary>The Secret holding a pod's secret parameters, one key per parameter.</summary>
    public static string SecretName(SidecarPod pod, DeploymentSettings settings) => $"{settings.NameOf(pod)}-secrets";

    /// <summary>The Secret holding the repository credentials (a password file, or an SSH key and known_hosts).</summary>
    public static string GitSecretName(SidecarPod pod, DeploymentSettings settings) => $"{settings.NameOf(pod)}-git";

    /// <summary>The ConfigMap holding the trust files of a sidecar that verifies signatures.</summary>
    public static string TrustConfigMapName(SidecarPod pod, DeploymentSettings settings) => $"{settings.NameOf(pod)}-git-trust";

    /// <summary>
    /// The trust files as a ConfigMap, one key per file (text in <c>data</c>, a binary OpenPGP key in <c>binaryData</c>),
    /// or null when the sidecar does not verify signatures. Replacing it updates the files in running Pods.
    /// </summary>
    public static V1ConfigMap? TrustConfigMap(SidecarPod pod, DeploymentSettings settings)
    {
        if (pod.Trust is not { } trust)
        {
            return null;
        }
        var text = trust.Files.Where(f => f.Text is not null).ToDictionary(f => f.Key, f => f.Text!);
        var binary = trust.Files.Where(f => f.Text is null).ToDictionary(f => f.Key, f => f.Content);
        return new V1ConfigMap
        {
            ApiVersion = "v1",
            Kind = "ConfigMap",
            Metadata = new V1ObjectMeta { Name = TrustConfigMapName(pod, settings), Labels = Labels(pod, settings) },
            Data = text.Count > 0 ? text : null,
            BinaryData = binary.Count > 0 ? binary : null,
        };
    }

    /// <summary>A pod's objects in the order kubectl applies them: what the Pod mounts comes first.</summary>
    public static IEnumerable<IKubernetesObject> Objects(SidecarPod pod, DeploymentSettings settings) =>
        TrustConfigMap(pod, settings) is { } trust ? [trust, Deployment(pod, settings), Service(pod, settings)] : [Deployment(pod, settings), Service(pod, settings)];

    public static Dictionary<string, string> Labels(SidecarPod pod, DeploymentSettings settings) => new()
    {
        ["app.kubernetes.io/name"] = pod.Name,
        ["app.kubernetes.io/instance"] = settings.Instance ?? pod.Name,
        ["app.kubernetes.io/part-of"] = "sidecar",
    };

    public static V1Deployment Deployment(SidecarPod pod, DeploymentSettings settings)
    {
        var labels = Labels(pod, settings);
        return new V1Deployment
        {
            ApiVersion = "apps/v1",
            Kind = "Deployment",
            Metadata = new V1ObjectMeta { Name = settings.NameOf(pod), Labels = labels },
            Spec = new V1DeploymentSpec
            {
                Replicas = pod.Replicas,
                Selector = new V1LabelSelector { MatchLabels = labels },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = labels },
                    Spec = PodSpec(pod, settings),
                },
            },
        };
    }

    public static V1Service Service(SidecarPod pod, DeploymentSettings settings)
    {
        var labels = Labels(pod, settings);
        var port = MainPort(pod);
        return new V1Service
        {
            ApiVersion = "v1",
            Kind = "Service",
            Metadata = new V1ObjectMeta { Name = settings.NameOf(pod), Labels = labels },
            Spec = new V1ServiceSpec
            {
                Selector = labels,
                Ports = [new V1ServicePort { Name = port.Name, Port = 80, TargetPort = port.Name, Protocol = "TCP" }],
            },
        };
    }

    /// <summary>The Secret with its values: written only when asked (<see cref="DeploymentSettings.WriteSecretValues"/>).</summary>
    public static async Task<V1Secret> SecretWithValuesAsync(SidecarPod pod, DeploymentSettings settings, CancellationToken cancellationToken)
    {
        var data = new Dictionary<string, string>();
        foreach (var secret in pod.Secrets)
        {
            data[secret.Name] = await DeploymentValue.ParameterValueAsync(secret, cancellationToken);
        }
        return new V1Secret
        {
            ApiVersion = "v1",
            Kind = "Secret",
            Metadata = new V1ObjectMeta { Name = SecretName(pod, settings), Labels = Labels(pod, settings) },
            Type = "Opaque",
            StringData = data,
        };
    }

    /// <summary>A shell script with the one command per Secret that creates it, and the Secret's shape; no values.</summary>
    public static string CreateSecretsScript(IEnumerable<SidecarPod> pods, DeploymentSettings settings)
    {
        var script = new StringBuilder("#!/bin/sh\n# Creates the Secrets sidecar.yaml refers to, with new random values; run it once, before kubectl apply.\nset -eu\n");
        foreach (var pod in pods)
        {
            script.Append(CultureInfo.InvariantCulture, $"\n# Secret {SecretName(pod, settings)}: keys {string.Join(", ", pod.Secrets.Select(s => s.Name))}\n");
            script.Append(CultureInfo.InvariantCulture, $"kubectl create secret generic {SecretName(pod, settings)}");
            foreach (var secret in pod.Secrets)
            {
                script.Append(CultureInfo.InvariantCulture, $" \\\n  --from-literal={secret.Name}=\"$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n')\"");
            }
            script.Append('\n');
            switch (settings.GitCredentials)
            {
                case GitCredentialSource.Password:
                    script.Append(CultureInfo.InvariantCulture, $"\n# Secret {GitSecretName(pod, settings)}: key password (the repository password or token, read from the file named by GIT_PASSWORD_FILE)\n");
                    script.Append(CultureInfo.InvariantCulture, $"kubectl create secret generic {GitSecretName(pod, settings)} --from-file=password=\"${{GIT_PASSWORD_FILE:?set GIT_PASSWORD_FILE to a file holding the password}}\"\n");
                    break;
                case GitCredentialSource.Ssh:
                    script.Append(CultureInfo.InvariantCulture, $"\n# Secret {GitSecretName(pod, settings)}: keys ssh (the private key) and known_hosts (the server's host key line)\n");
                    script.Append(CultureInfo.InvariantCulture, $"kubectl create secret generic {GitSecretName(pod, settings)} --from-file=ssh=\"${{GIT_SSH_KEY_FILE:?set GIT_SSH_KEY_FILE}}\" --from-file=known_hosts=\"${{GIT_KNOWN_HOSTS_FILE:?set GIT_KNOWN_HOSTS_FILE}}\"\n");
                    break;
            }
        }
        return script.ToString();
    }

    private static DeployedPort MainPort(SidecarPod pod) =>
        pod.Main.Ports.FirstOrDefault(p => p.Scheme == "http")
            ?? throw new InvalidOperationException($"'{pod.Main.Name}' has no http endpoint to serve: add one with WithHttpEndpoint()");

    private static V1PodSpec PodSpec(SidecarPod pod, DeploymentSettings settings)
    {
        var volumes = new List<V1Volume>
        {
            new() { Name = ContentVolume, EmptyDir = new V1EmptyDirVolumeSource { SizeLimit = new ResourceQuantity(settings.ContentSizeLimit) } },
        };
        foreach (var container in pod.Containers)
        {
            volumes.Add(new V1Volume { Name = TempVolume(container), EmptyDir = new V1EmptyDirVolumeSource { Medium = "Memory", SizeLimit = new ResourceQuantity(settings.TempSizeLimit) } });
        }
        if (settings.GitCredentials != GitCredentialSource.None)
        {
            volumes.Add(new V1Volume { Name = GitSecretVolume, Secret = new V1SecretVolumeSource { SecretName = GitSecretName(pod, settings), DefaultMode = ReadOnlyByOwner } });
        }
        if (pod.Trust is { } trust)
        {
            // Items, not subPath mounts: the kubelet swaps updated files in, and the sidecar re-reads a trust file that changed.
            volumes.Add(new V1Volume
            {
                Name = GitTrustVolume,
                ConfigMap = new V1ConfigMapVolumeSource
                {
                    Name = TrustConfigMapName(pod, settings),
                    Items = [.. trust.Files.Select(f => new V1KeyToPath { Key = f.Key, Path = f.Path })],
                    DefaultMode = ReadOnlyByAll,
                },
            });
        }
        return new V1PodSpec
        {
            AutomountServiceAccountToken = false,
            ImagePullSecrets = settings.ImagePullSecret is { } pull ? [new V1LocalObjectReference { Name = pull }] : null,
            SecurityContext = new V1PodSecurityContext
            {
                RunAsNonRoot = true,
                RunAsUser = AppUserId,
                RunAsGroup = AppUserId,
                FsGroup = AppUserId,
                SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
            },
            InitContainers = [SyncContainer(pod, settings)],
            Containers = [MainContainer(pod, settings)],
            Volumes = volumes,
        };
    }

    private static string TempVolume(DeployedContainer container) => $"tmp-{container.Name}";

    private static V1Container SyncContainer(SidecarPod pod, DeploymentSettings settings)
    {
        var env = Environment(pod, pod.Sync, settings);
        var mounts = new List<V1VolumeMount>
        {
            new() { Name = ContentVolume, MountPath = SharedContentResource.ContainerPath },
            new() { Name = TempVolume(pod.Sync), MountPath = "/tmp" },
        };
        switch (settings.GitCredentials)
        {
            case GitCredentialSource.Password:
                env.Add(Env("GITSYNC_USERNAME", settings.GitUsername!));
                env.Add(Env("GITSYNC_PASSWORD_FILE", $"{DeploymentSettings.GitSecretPath}/password"));
                break;
            case GitCredentialSource.Ssh:
                env.Add(Env("GITSYNC_SSH_KEY_FILE", $"{DeploymentSettings.GitSecretPath}/ssh"));
                env.Add(Env("GITSYNC_SSH_KNOWN_HOSTS_FILE", $"{DeploymentSettings.GitSecretPath}/known_hosts"));
                break;
        }
        if (settings.GitCredentials != GitCredentialSource.None)
        {
            // Beside the sidecar, never on the shared volume the main server reads.
            mounts.Add(new V1VolumeMount { Name = GitSecretVolume, MountPath = DeploymentSettings.GitSecretPath, ReadOnlyProperty = true });
        }
        if (pod.Trust is not null)
        {
            // Where WithSignatureVerification points the sidecar; the main server never sees the trust files.
            mounts.Add(new V1VolumeMount { Name = GitTrustVolume, MountPath = SignatureVerificationExtensions.TrustFolder, ReadOnlyProperty = true });
        }
        var status = (IntOrString)GitSyncResource.StatusEndpointName;
        return new V1Container
        {
            Name = pod.Sync.Name,
            Image = pod.Sync.Image,
            // A native sidecar: started before the main container, stopped after it.
            RestartPolicy = "Always",
            Args = Arguments(pod, pod.Sync),
            Env = env,
            Ports = Ports(pod.Sync),
            // GET / is 503 until the first revision is published (here and in kubernetes/git-sync), so the main container starts with content in place.
            StartupProbe = new V1Probe { HttpGet = new V1HTTPGetAction { Path = "/", Port = status }, PeriodSeconds = 2, FailureThreshold = 150 },
            ReadinessProbe = new V1Probe { HttpGet = new V1HTTPGetAction { Path = "/", Port = status }, PeriodSeconds = 10 },
            LivenessProbe = new V1Probe { HttpGet = new V1HTTPGetAction { Path = "/", Port = status }, PeriodSeconds = 20 },
            Resources = Resources("50m", "64Mi", "500m", "256Mi"),
            SecurityContext = RestrictedContainer(),
            VolumeMounts = mounts,
        };
    }

    private static V1Container MainContainer(SidecarPod pod, DeploymentSettings settings)
    {
        var port = (IntOrString)MainPort(pod).Name;
        // Sidecar.StaticWeb's /health is unhealthy until the link resolves; another server (nginx) has no such path,
        // and the sidecar's startup probe already holds it back until content is published: a TCP check is enough there.
        var (readiness, liveness) = pod.Main.IsProjectImage
            ? (new V1Probe { HttpGet = new V1HTTPGetAction { Path = "/health", Port = port }, PeriodSeconds = 5 },
               new V1Probe { HttpGet = new V1HTTPGetAction { Path = "/alive", Port = port }, PeriodSeconds = 20 })
            : (new V1Probe { TcpSocket = new V1TCPSocketAction { Port = port }, PeriodSeconds = 5 },
               new V1Probe { TcpSocket = new V1TCPSocketAction { Port = port }, PeriodSeconds = 20 });
        return new V1Container
        {
            Name = pod.Main.Name,
            Image = pod.Main.Image,
            Args = Arguments(pod, pod.Main),
            Env = Environment(pod, pod.Main, settings),
            Ports = Ports(pod.Main),
            ReadinessProbe = readiness,
            LivenessProbe = liveness,
            Resources = Resources("100m", "64Mi", "1", "256Mi"),
            SecurityContext = RestrictedContainer(),
            VolumeMounts =
            [
                new V1VolumeMount { Name = ContentVolume, MountPath = SharedContentResource.ContainerPath, ReadOnlyProperty = true },
                new V1VolumeMount { Name = TempVolume(pod.Main), MountPath = "/tmp" },
            ],
        };
    }

    private static List<V1ContainerPort> Ports(DeployedContainer container) =>
        [.. container.Ports.Select(p => new V1ContainerPort { Name = p.Name, ContainerPort = p.Port, Protocol = "TCP" })];

    // Containers of one Pod share its network: an endpoint of the Pod is on loopback.
    private static string Loopback(DeployedContainer container) => "127.0.0.1";

    private static List<string>? Arguments(SidecarPod pod, DeployedContainer container)
    {
        if (container.Arguments.Count == 0)
        {
            return null;
        }
        return [.. container.Arguments.Select(a => a.Render(
            s => throw new InvalidOperationException($"an argument of '{container.Name}' holds the secret '{s.Parameter.Name}': pass secrets in environment variables, which come from a Secret"),
            e => pod.Render(e, Loopback)))];
    }

    private static List<V1EnvVar> Environment(SidecarPod pod, DeployedContainer container, DeploymentSettings settings)
    {
        var env = new List<V1EnvVar>();
        var later = new List<V1EnvVar>();
        foreach (var (name, value) in container.Environment)
        {
            if (value.SingleSecret is { } secret)
            {
                env.Add(FromSecret(name, SecretName(pod, settings), secret.Name));
                continue;
            }
            foreach (var embedded in value.Secrets)
            {
                // Kubernetes expands $(NAME) of a variable defined earlier in the list.
                var helper = SecretVariable(embedded);
                if (env.All(e => e.Name != helper))
                {
                    env.Add(FromSecret(helper, SecretName(pod, settings), embedded.Name));
                }
            }
            later.Add(Env(name, value.Render(s => $"$({SecretVariable(s.Parameter)})", e => pod.Render(e, Loopback))));
        }
        env.AddRange(later);
        return env;
    }

    private static string SecretVariable(ParameterResource secret) =>
        "SIDECAR_SECRET_" + secret.Name.Replace('-', '_').ToUpperInvariant();

    private static V1EnvVar Env(string name, string value) => new() { Name = name, Value = value };

    private static V1EnvVar FromSecret(string name, string secret, string key) =>
        new() { Name = name, ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = secret, Key = key } } };

    private static V1ResourceRequirements Resources(string cpuRequest, string memoryRequest, string cpuLimit, string memoryLimit) => new()
    {
        Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(cpuRequest), ["memory"] = new(memoryRequest) },
        Limits = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(cpuLimit), ["memory"] = new(memoryLimit) },
    };

    private static V1SecurityContext RestrictedContainer() => new()
    {
        AllowPrivilegeEscalation = false,
        ReadOnlyRootFilesystem = true,
        Capabilities = new V1Capabilities { Drop = ["ALL"] },
    };

    /// <summary>All objects as one YAML stream, documents separated by <c>---</c>.</summary>
    public static string ToYaml(IEnumerable<IKubernetesObject> objects) =>
        string.Join("---\n", objects.Select(o => KubernetesYaml.Serialize(o).TrimEnd('\n') + "\n"));
}
