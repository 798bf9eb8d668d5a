using YamlDotNet.Serialization;

namespace Aspire.Hosting.Deployment;

/// <summary>
/// Writes a main server and its git-sync sidecar for Docker Compose on one machine: two services and
/// one named volume, from the same model as the Kubernetes manifests.
/// </summary>
public static class ComposeFile
{
    /// <summary>The variable in <c>.env</c> that holds a pod's webhook secret.</summary>
    public static string SecretVariable(SidecarPod pod) => $"{pod.SyncName}_{pod.Name}_WEBHOOK_SECRET".Replace('-', '_').ToUpperInvariant();

    public static string RepoVariable(SidecarPod pod) => $"{pod.SyncName}_{pod.Name}_REPO".Replace('-', '_').ToUpperInvariant();

    public static string ToYaml(IEnumerable<SidecarPod> pods)
    {
        var services = new Dictionary<string, object>();
        var volumes = new Dictionary<string, object>();
        var port = 8080;
        foreach (var pod in pods)
        {
            var volume = $"{pod.Name}-content";
            volumes[volume] = new Dictionary<string, object>();
            var syncEnvironment = new Dictionary<string, string>
            {
                ["GITSYNC_REPO"] = $"${{{RepoVariable(pod)}}}",
                ["GITSYNC_REF"] = pod.Ref,
                ["GITSYNC_PERIOD"] = pod.Period,
                ["GITSYNC_ROOT"] = SharedContentResource.ContainerPath,
                ["GITSYNC_LINK"] = pod.ContentLink,
                ["GITSYNC_HTTP_BIND"] = $":{SidecarPod.SyncStatusPort}",
                ["GITSYNC_HTTP_METRICS"] = "true",
                ["GITSYNC_MAX_FAILURES"] = "-1",
                ["GITSYNC_WEBHOOK_SECRET"] = $"${{{SecretVariable(pod)}}}",
                ["OTEL_SERVICE_NAME"] = pod.SyncName,
            };
            var mainEnvironment = new Dictionary<string, string>
            {
                [pod.RootVariable] = $"{SharedContentResource.ContainerPath}/{pod.ContentLink}",
                ["ASPNETCORE_HTTP_PORTS"] = SidecarPod.MainPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["OTEL_SERVICE_NAME"] = pod.Name,
            };
            if (pod.RevisionWebhookPath is { } path)
            {
                // Not one network namespace here: the main server takes the webhook with the shared secret.
                syncEnvironment["GITSYNC_WEBHOOK_URL"] = $"http://{pod.Name}:{SidecarPod.MainPort}{path}?token=${{{SecretVariable(pod)}}}";
                mainEnvironment["StaticWeb__RevisionWebhookSecret"] = $"${{{SecretVariable(pod)}}}";
                foreach (var (name, value) in pod.MainEnvironment)
                {
                    mainEnvironment[name] = value;
                }
            }
            services[pod.SyncName] = new Dictionary<string, object>
            {
                ["image"] = pod.SyncImage,
                ["restart"] = "unless-stopped",
                ["read_only"] = true,
                ["tmpfs"] = new[] { "/tmp" },
                ["environment"] = syncEnvironment,
                ["volumes"] = new[] { $"{volume}:{SharedContentResource.ContainerPath}" },
                ["expose"] = new[] { SidecarPod.SyncStatusPort.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            };
            services[pod.Name] = new Dictionary<string, object>
            {
                ["image"] = pod.MainImage,
                ["restart"] = "unless-stopped",
                ["read_only"] = true,
                ["tmpfs"] = new[] { "/tmp" },
                ["environment"] = mainEnvironment,
                ["volumes"] = new[] { $"{volume}:{SharedContentResource.ContainerPath}:ro" },
                ["ports"] = new[] { $"{port++}:{SidecarPod.MainPort}" },
                ["depends_on"] = new[] { pod.SyncName },
            };
        }
        // No top-level `name:`: docker-compose 1.x rejects it; the project name comes from the folder or `-p`.
        var document = new Dictionary<string, object>
        {
            ["services"] = services,
            ["volumes"] = volumes,
        };
        // Strings that read as another type (`true`, `-1`) are quoted: docker-compose 1.x takes only strings as environment values.
        return new SerializerBuilder().WithQuotingNecessaryStrings().Build().Serialize(document);
    }

    /// <summary>The <c>.env</c> file Compose reads the secrets from; kept next to the compose file, out of version control.</summary>
    public static string EnvironmentFile(IEnumerable<SidecarPod> pods) =>
        string.Concat(pods.Select(pod => $"{RepoVariable(pod)}={pod.Repo}\n{SecretVariable(pod)}={pod.WebhookSecret}\n"));
}
