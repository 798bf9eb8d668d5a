using System.Globalization;
using System.Text;
using Aspire.Hosting.ApplicationModel;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.EventEmitters;

namespace Aspire.Hosting.Deployment;

/// <summary>
/// Writes a main server and its git-sync sidecar for Docker Compose on one machine: two services and
/// one named volume, from the same model as the Kubernetes manifests. The file keeps to what both the
/// Compose Specification and docker-compose 1.29 accept: no top-level <c>name</c>, every value a quoted string.
/// </summary>
public static class ComposeFile
{
    /// <summary>The variable in <c>.env</c> that holds a secret parameter.</summary>
    public static string SecretVariable(ParameterResource secret) => secret.Name.Replace('-', '_').ToUpperInvariant();

    /// <summary>The folder beside <c>docker-compose.yaml</c> that holds the sidecars' trust files; each publish writes it anew.</summary>
    public const string TrustFolder = "trust";

    /// <summary>Where a sidecar's trust files go, relative to <c>docker-compose.yaml</c>: one folder per sidecar, mounted whole.</summary>
    public static string TrustFolderOf(SidecarPod pod) => $"{TrustFolder}/{pod.Sync.Name}";

    /// <summary>The trust files to write beside <c>docker-compose.yaml</c>: (path relative to it, bytes).</summary>
    public static IEnumerable<(string Path, byte[] Content)> TrustFiles(IEnumerable<SidecarPod> pods) =>
        pods.Where(p => p.Trust is not null).SelectMany(p => p.Trust!.Files.Select(f => ($"{TrustFolderOf(p)}/{f.Path}", f.Content)));

    public static string ToYaml(IEnumerable<SidecarPod> pods)
    {
        var services = new Dictionary<string, object>();
        var volumes = new Dictionary<string, object>();
        var hostPort = SidecarPod.FirstPort;
        foreach (var pod in pods)
        {
            var volume = $"{pod.Name}-content";
            volumes[volume] = new Dictionary<string, object>();
            var sync = Service(pod, pod.Sync);
            // The trust folder is mounted whole, read-only: a file replaced on the host (a new inode) still reaches the sidecar, which re-reads it.
            sync["volumes"] = pod.Trust is null
                ? new[] { $"{volume}:{SharedContentResource.ContainerPath}" }
                : new[] { $"{volume}:{SharedContentResource.ContainerPath}", $"./{TrustFolderOf(pod)}:{SignatureVerificationExtensions.TrustFolder}:ro" };
            sync["expose"] = pod.Sync.Ports.Select(p => Number(p.Port)).ToArray();
            services[pod.Sync.Name] = sync;

            var main = Service(pod, pod.Main);
            main["volumes"] = new[] { $"{volume}:{SharedContentResource.ContainerPath}:ro" };
            main["ports"] = pod.Main.Ports.Where(p => p.IsExternal).Select(p => $"{Number(hostPort++)}:{Number(p.Port)}").ToArray();
            main["depends_on"] = new[] { pod.Sync.Name };
            services[pod.Main.Name] = main;
        }
        // No top-level `name:`: docker-compose 1.x rejects it; the project name comes from the folder or `-p`.
        var document = new Dictionary<string, object>
        {
            ["services"] = services,
            ["volumes"] = volumes,
        };
        return new SerializerBuilder()
            .WithEventEmitter(next => new QuotedStrings(next))
            .Build()
            .Serialize(document);
    }

    private static Dictionary<string, object> Service(SidecarPod pod, DeployedContainer container)
    {
        var service = new Dictionary<string, object>
        {
            ["image"] = container.Image,
            ["restart"] = "unless-stopped",
            ["read_only"] = true,
            ["tmpfs"] = new[] { "/tmp" },
            ["environment"] = container.Environment.ToDictionary(e => e.Key, e => Render(pod, e.Value)),
        };
        if (container.Arguments.Count > 0)
        {
            service["command"] = container.Arguments.Select(a => Render(pod, a)).ToArray();
        }
        return service;
    }

    // Services reach each other by name on the Compose network; a literal '$' is doubled so Compose leaves it alone.
    private static string Render(SidecarPod pod, DeploymentValue value) =>
        value.Render(s => $"${{{SecretVariable(s.Parameter)}}}", e => pod.Render(e, c => c.Name), literal => literal.Replace("$", "$$"));

    private static string Number(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The secret parameters of all pods, each once.</summary>
    public static IReadOnlyList<ParameterResource> Secrets(IEnumerable<SidecarPod> pods) => pods.SelectMany(p => p.Secrets).Distinct().ToList();

    /// <summary>The <c>.env</c> file with the secrets' values: written only when asked.</summary>
    public static async Task<string> EnvironmentFileAsync(IEnumerable<SidecarPod> pods, CancellationToken cancellationToken)
    {
        var text = new StringBuilder();
        foreach (var secret in Secrets(pods))
        {
            text.Append(CultureInfo.InvariantCulture, $"{SecretVariable(secret)}={await DeploymentValue.ParameterValueAsync(secret, cancellationToken)}\n");
        }
        return text.ToString();
    }

    /// <summary>A shell script that writes <c>.env</c> with new random values (mode 0600), naming each variable: the shape of the secrets, no values.</summary>
    public static string CreateSecretsScript(IEnumerable<SidecarPod> pods)
    {
        var script = new StringBuilder("#!/bin/sh\n# Writes .env beside docker-compose.yaml with new random secrets; run it once, before docker compose up.\nset -eu\ncd \"$(dirname \"$0\")\"\numask 077\n{\n");
        foreach (var secret in Secrets(pods))
        {
            script.Append(CultureInfo.InvariantCulture, $"  echo \"{SecretVariable(secret)}=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n')\"\n");
        }
        script.Append("} > .env\n");
        return script.ToString();
    }

    // docker-compose 1.29 rejects a bare true or a number where it wants a string (environment values): quote every string.
    private sealed class QuotedStrings(IEventEmitter next) : ChainedEventEmitter(next)
    {
        public override void Emit(ScalarEventInfo eventInfo, IEmitter emitter)
        {
            if (eventInfo.Source.Type == typeof(string))
            {
                eventInfo.Style = ScalarStyle.DoubleQuoted;
            }
            base.Emit(eventInfo, emitter);
        }
    }
}
