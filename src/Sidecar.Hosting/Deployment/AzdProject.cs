using Aspire.Hosting.ApplicationModel;
using k8s;
using k8s.Models;
using YamlDotNet.Serialization;

namespace Aspire.Hosting.Deployment;

/// <summary>
/// An azd project for the AKS host: azd gives each service of an Aspire AppHost its own container app, which
/// cannot share a volume, so the main server and its sidecar go in as two <c>host: aks</c> services built from
/// their Dockerfiles, and the main server's manifests hold the one Deployment with both images.
/// </summary>
public static class AzdProject
{
    /// <summary>The variable azd sets to the image it built and pushed for a service.</summary>
    public static string ImageVariable(IResource resource) => $"SERVICE_{resource.Name.Replace('-', '_').ToUpperInvariant()}_IMAGE_NAME";

    /// <summary>The image reference in a template: azd renders <c>{{ .Env.NAME }}</c> before it applies the manifests.</summary>
    public static (string Image, bool IsProjectImage) TemplateImage(IResource resource) => ($"{{{{ .Env.{ImageVariable(resource)} }}}}", true);

    /// <summary>The ConfigMap of the sidecar's trust files, beside the main server's Deployment that mounts it.</summary>
    public const string TrustManifest = "git-trust.yaml";

    /// <summary>
    /// The trust ConfigMap as azd applies it, or null without signature verification. azd passes every manifest
    /// through envsubst, which would replace a <c>$NAME</c> in a trust file: such a file is refused, naming it.
    /// </summary>
    public static string? TrustTemplate(SidecarPod pod, DeploymentSettings settings)
    {
        if (KubernetesManifests.TrustConfigMap(pod, settings) is not { } trust)
        {
            return null;
        }
        if (pod.Trust!.Files.FirstOrDefault(f => f.Text?.Contains('$') == true) is { } file)
        {
            throw new InvalidOperationException(
                $"'{pod.Sync.Name}': the trust file '{file.Source}' holds a '$', which azd's envsubst would replace when it applies the manifests: remove it (a comment line can do without it)");
        }
        return KubernetesYaml.Serialize(trust);
    }

    /// <summary>The folder (under the output) that holds a service's manifests.</summary>
    public static string ManifestsFolder(DeployedContainer container) => Path.Combine(container.Name, "manifests");

    /// <summary><c>azure.yaml</c>, with paths relative to <paramref name="output"/>, where it is written.</summary>
    public static string AzureYaml(IReadOnlyList<SidecarPod> pods, string output)
    {
        var services = new Dictionary<string, object>();
        foreach (var pod in pods)
        {
            services[pod.Sync.Name] = Service(pod.Sync, output, uses: null);
            services[pod.Main.Name] = Service(pod.Main, output, uses: [pod.Sync.Name]);
        }
        var document = new Dictionary<string, object> { ["name"] = "sidecar", ["services"] = services };
        return "# yaml-language-server: $schema=https://raw.githubusercontent.com/Azure/azure-dev/main/schemas/v1.0/azure.yaml.json\n"
            + new SerializerBuilder().Build().Serialize(document);
    }

    private static Dictionary<string, object> Service(DeployedContainer container, string output, string[]? uses)
    {
        if (container.Resource is not ProjectResource project)
        {
            throw new InvalidOperationException($"'{container.Name}' is not a .NET project: azd builds a service from its project's Dockerfile");
        }
        var projectDirectory = Path.GetDirectoryName(project.GetProjectMetadata().ProjectPath)!;
        var root = RepositoryRoot(projectDirectory);
        // The Dockerfiles copy a published build from out/publish/<repository> under the root: azd builds only the image.
        var published = Path.Combine(root, "out", "publish", DeployedContainer.ContainerRepositoryOf(project.GetProjectMetadata().ProjectPath));
        var service = new Dictionary<string, object>
        {
            ["project"] = Relative(output, projectDirectory),
            ["language"] = "dotnet",
            ["host"] = "aks",
            // With a Dockerfile azd builds and pushes the image; without one it uses PublishContainer, which its AKS target does not push.
            ["docker"] = new Dictionary<string, object>
            {
                ["path"] = "Dockerfile",
                ["context"] = Relative(projectDirectory, root),
            },
            ["hooks"] = new Dictionary<string, object>
            {
                ["prepackage"] = new Dictionary<string, object>
                {
                    ["shell"] = "sh",
                    ["run"] = $"dotnet publish -c Release -o {Relative(projectDirectory, published)}",
                },
            },
            ["k8s"] = new Dictionary<string, object>
            {
                ["deploymentPath"] = Relative(projectDirectory, Path.Combine(output, ManifestsFolder(container))),
            },
        };
        if (uses is not null)
        {
            service["uses"] = uses;
        }
        return service;
    }

    /// <summary>The main server's manifests: the one Deployment (both images as template variables) and its Service.</summary>
    public static (string Deployment, string Service) MainTemplates(SidecarPod pod, DeploymentSettings settings) =>
        (KubernetesYaml.Serialize(KubernetesManifests.Deployment(pod, settings)), KubernetesYaml.Serialize(KubernetesManifests.Service(pod, settings)));

    /// <summary>azd needs manifests for every AKS service; the sidecar runs inside the main server's Pod, so its are a note.</summary>
    public static string SyncTemplate(SidecarPod pod, DeploymentSettings settings) => KubernetesYaml.Serialize(new V1ConfigMap
    {
        ApiVersion = "v1",
        Kind = "ConfigMap",
        Metadata = new V1ObjectMeta { Name = $"{settings.NameOf(pod)}-{pod.Sync.Name}", Labels = KubernetesManifests.Labels(pod, settings) },
        Data = new Dictionary<string, string>
        {
            ["runs-in"] = $"deployment/{settings.NameOf(pod)}",
            ["image"] = pod.Sync.Image,
        },
    });

    private static string Relative(string from, string to) => Path.GetRelativePath(from, to).Replace('\\', '/');

    // The Dockerfiles copy shared projects (ServiceDefaults): their context is the folder that holds the solution.
    private static string RepositoryRoot(string projectDirectory)
    {
        for (var directory = new DirectoryInfo(projectDirectory); directory is not null; directory = directory.Parent)
        {
            if (directory.EnumerateFiles("*.sln").Any() || directory.EnumerateFiles("*.slnx").Any())
            {
                return directory.FullName;
            }
        }
        return projectDirectory;
    }
}
