using k8s;
using k8s.Models;

namespace Aspire.Hosting.Deployment;

/// <summary>
/// Writes a main server and its git-sync sidecar as ONE Pod: the sidecar is a native sidecar (an init
/// container with <c>restartPolicy: Always</c>, so it starts first and stops last), both mount one
/// emptyDir, and the main container is ready only once content is published.
/// </summary>
public static class KubernetesManifests
{
    private const string ContentVolume = "content";
    private const string TempVolume = "tmp";
    private const long AppUserId = 1654; // the "app" user of the .NET container images

    public static IReadOnlyList<IKubernetesObject> For(SidecarPod pod)
    {
        var labels = new Dictionary<string, string>
        {
            ["app.kubernetes.io/name"] = pod.Name,
            ["app.kubernetes.io/part-of"] = "sidecar",
        };
        var secretName = $"{pod.Name}-{pod.SyncName}";
        return
        [
            new V1Secret
            {
                ApiVersion = "v1",
                Kind = "Secret",
                Metadata = new V1ObjectMeta { Name = secretName, Labels = labels },
                Type = "Opaque",
                // The repo URL may carry credentials; the webhook secret guards POST /sync.
                StringData = new Dictionary<string, string>
                {
                    ["repo"] = pod.Repo,
                    ["webhook-secret"] = pod.WebhookSecret,
                },
            },
            new V1Deployment
            {
                ApiVersion = "apps/v1",
                Kind = "Deployment",
                Metadata = new V1ObjectMeta { Name = pod.Name, Labels = labels },
                Spec = new V1DeploymentSpec
                {
                    Replicas = pod.Replicas,
                    Selector = new V1LabelSelector { MatchLabels = labels },
                    Template = new V1PodTemplateSpec
                    {
                        Metadata = new V1ObjectMeta { Labels = labels },
                        Spec = PodSpec(pod, secretName),
                    },
                },
            },
            new V1Service
            {
                ApiVersion = "v1",
                Kind = "Service",
                Metadata = new V1ObjectMeta { Name = pod.Name, Labels = labels },
                Spec = new V1ServiceSpec
                {
                    Selector = labels,
                    Ports = [new V1ServicePort { Name = "http", Port = 80, TargetPort = "http", Protocol = "TCP" }],
                },
            },
        ];
    }

    private static V1PodSpec PodSpec(SidecarPod pod, string secretName) => new()
    {
        SecurityContext = new V1PodSecurityContext
        {
            RunAsNonRoot = true,
            RunAsUser = AppUserId,
            RunAsGroup = AppUserId,
            FsGroup = AppUserId,
            SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
        },
        InitContainers = [SyncContainer(pod, secretName)],
        Containers = [MainContainer(pod)],
        Volumes =
        [
            new V1Volume { Name = ContentVolume, EmptyDir = new V1EmptyDirVolumeSource() },
            new V1Volume { Name = TempVolume, EmptyDir = new V1EmptyDirVolumeSource { Medium = "Memory" } },
        ],
    };

    private static V1Container SyncContainer(SidecarPod pod, string secretName)
    {
        var env = new List<V1EnvVar>
        {
            FromSecret("GITSYNC_REPO", secretName, "repo"),
            Env("GITSYNC_REF", pod.Ref),
            Env("GITSYNC_PERIOD", pod.Period),
            Env("GITSYNC_ROOT", SharedContentResource.ContainerPath),
            Env("GITSYNC_LINK", pod.ContentLink),
            Env("GITSYNC_HTTP_BIND", $":{SidecarPod.SyncStatusPort}"),
            Env("GITSYNC_HTTP_METRICS", "true"),
            Env("GITSYNC_MAX_FAILURES", "-1"),
            FromSecret("GITSYNC_WEBHOOK_SECRET", secretName, "webhook-secret"),
            Env("OTEL_SERVICE_NAME", pod.SyncName),
        };
        if (pod.RevisionWebhookPath is { } path)
        {
            // Containers of one Pod share its network: the main server is on loopback.
            env.Add(Env("GITSYNC_WEBHOOK_URL", $"http://127.0.0.1:{SidecarPod.MainPort}{path}"));
        }
        var status = (IntOrString)"status";
        return new V1Container
        {
            Name = pod.SyncName,
            Image = pod.SyncImage,
            // A native sidecar: started before the main container, stopped after it.
            RestartPolicy = "Always",
            Env = env,
            Ports = [new V1ContainerPort { Name = "status", ContainerPort = SidecarPod.SyncStatusPort }],
            // GET / is 503 until the first revision is published, so the main container starts with content in place.
            StartupProbe = new V1Probe { HttpGet = new V1HTTPGetAction { Path = "/", Port = status }, PeriodSeconds = 2, FailureThreshold = 150 },
            ReadinessProbe = new V1Probe { HttpGet = new V1HTTPGetAction { Path = "/", Port = status }, PeriodSeconds = 10 },
            LivenessProbe = new V1Probe { HttpGet = new V1HTTPGetAction { Path = "/status", Port = status }, PeriodSeconds = 20 },
            Resources = Resources("50m", "64Mi", "500m", "256Mi"),
            SecurityContext = RestrictedContainer(),
            VolumeMounts =
            [
                new V1VolumeMount { Name = ContentVolume, MountPath = SharedContentResource.ContainerPath },
                new V1VolumeMount { Name = TempVolume, MountPath = "/tmp" },
            ],
        };
    }

    private static V1Container MainContainer(SidecarPod pod)
    {
        var http = (IntOrString)"http";
        return new V1Container
        {
            Name = pod.Name,
            Image = pod.MainImage,
            Env =
            [
                Env(pod.RootVariable, $"{SharedContentResource.ContainerPath}/{pod.ContentLink}"),
                Env("ASPNETCORE_HTTP_PORTS", SidecarPod.MainPort.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                Env("OTEL_SERVICE_NAME", pod.Name),
                .. pod.MainEnvironment.Select(e => Env(e.Key, e.Value)),
            ],
            Ports = [new V1ContainerPort { Name = "http", ContainerPort = SidecarPod.MainPort }],
            // /health stays unhealthy until the link resolves: no traffic before content is published.
            ReadinessProbe = new V1Probe { HttpGet = new V1HTTPGetAction { Path = "/health", Port = http }, PeriodSeconds = 5 },
            LivenessProbe = new V1Probe { HttpGet = new V1HTTPGetAction { Path = "/alive", Port = http }, PeriodSeconds = 20 },
            Resources = Resources("100m", "64Mi", "1", "256Mi"),
            SecurityContext = RestrictedContainer(),
            VolumeMounts =
            [
                new V1VolumeMount { Name = ContentVolume, MountPath = SharedContentResource.ContainerPath, ReadOnlyProperty = true },
                new V1VolumeMount { Name = TempVolume, MountPath = "/tmp" },
            ],
        };
    }

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
