using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;

namespace Aspire.Hosting.Deployment;

/// <summary>
/// One main server and its git-sync sidecar, as they are deployed together: one Pod (Kubernetes) or two
/// services on one volume (Compose). Read from the app model, with parameter values resolved.
/// </summary>
public sealed record SidecarPod(
    string Name,
    string MainImage,
    string SyncName,
    string SyncImage,
    string Repo,
    string Ref,
    string Period,
    string WebhookSecret,
    int Replicas,
    string RootVariable,
    string ContentLink,
    string? RevisionWebhookPath,
    IReadOnlyDictionary<string, string> MainEnvironment)
{
    public const int MainPort = 8080;
    public const int SyncStatusPort = 8081;

    /// <summary>Finds every main resource served by a git-sync sidecar and resolves its settings.</summary>
    public static async Task<IReadOnlyList<SidecarPod>> FromModelAsync(DistributedApplicationModel model, IConfiguration configuration, CancellationToken cancellationToken)
    {
        var pods = new List<SidecarPod>();
        foreach (var main in model.Resources)
        {
            if (main.Annotations.OfType<GitSyncSidecarAnnotation>().SingleOrDefault() is not { } served)
            {
                continue;
            }
            var sync = served.Sync.Annotations.OfType<GitSyncAnnotation>().Single();
            var webhook = main.Annotations.OfType<RevisionWebhookAnnotation>().SingleOrDefault();
            var repo = sync.Repo ?? throw new InvalidOperationException(
                $"the sidecar '{served.Sync.Name}' syncs the demo origin, which runs only on this machine: give a repository with --Parameters:repo=URL");
            pods.Add(new SidecarPod(
                main.Name,
                ImageFor(main, configuration),
                served.Sync.Name,
                ImageFor(served.Sync, configuration),
                await ValueAsync(repo, "", cancellationToken),
                await ValueAsync(sync.Ref, "HEAD", cancellationToken),
                await ValueAsync(sync.Period, "10s", cancellationToken),
                await sync.WebhookSecret.GetValueAsync(cancellationToken) ?? "",
                await ReplicasOfAsync(main, cancellationToken),
                served.RootVariable,
                sync.Content.Resource.Link,
                webhook?.Path,
                webhook?.MainEnvironment ?? new Dictionary<string, string>()));
        }
        return pods;
    }

    /// <summary>
    /// The image of a resource: <c>Sidecar:Images:NAME</c> if set, else the repository the project's
    /// container build uses (<c>sidecar-gitsync</c>, <c>sidecar-staticweb</c>), under <c>Sidecar:ImageRegistry</c>
    /// with the tag <c>Sidecar:ImageTag</c> (default <c>latest</c>).
    /// </summary>
    public static string ImageFor(IResource resource, IConfiguration configuration)
    {
        if (configuration[$"Sidecar:Images:{resource.Name}"] is { Length: > 0 } image)
        {
            return image;
        }
        var repository = resource is ProjectResource project
            ? ContainerRepositoryOf(project.GetProjectMetadata().ProjectPath)
            : resource.Name;
        var registry = configuration["Sidecar:ImageRegistry"]?.TrimEnd('/');
        var tag = configuration["Sidecar:ImageTag"] is { Length: > 0 } t ? t : "latest";
        return $"{(string.IsNullOrEmpty(registry) ? "" : registry + "/")}{repository}:{tag}";
    }

    /// <summary>The container repository name the projects' container build uses: <c>Sidecar.GitSync</c> gives <c>sidecar-gitsync</c>.</summary>
    public static string ContainerRepositoryOf(string projectPath) =>
        Path.GetFileNameWithoutExtension(projectPath).Replace('.', '-').ToLowerInvariant();

    private static async Task<int> ReplicasOfAsync(IResource main, CancellationToken cancellationToken)
    {
        var text = await ValueAsync(main.Annotations.OfType<ReplicasAnnotation>().SingleOrDefault()?.Replicas, "1", cancellationToken);
        return int.TryParse(text, out var replicas) && replicas >= 1
            ? replicas
            : throw new InvalidOperationException($"replicas '{text}' is not a whole number of at least 1: set --Parameters:replicas=2, for example");
    }

    private static async Task<string> ValueAsync(ParameterResource? parameter, string fallback, CancellationToken cancellationToken)
    {
        if (parameter is null)
        {
            return fallback;
        }
        try
        {
            return await parameter.GetValueAsync(cancellationToken) ?? fallback;
        }
        catch (MissingParameterValueException)
        {
            throw new InvalidOperationException(
                $"the parameter '{parameter.Name}' has no value: give it with --Parameters:{parameter.Name}=VALUE (or the environment variable Parameters__{parameter.Name})");
        }
    }
}

/// <summary>How many copies of the Pod a deployment runs.</summary>
public sealed class ReplicasAnnotation(ParameterResource replicas) : IResourceAnnotation
{
    public ParameterResource Replicas { get; } = replicas;
}

/// <summary>The path at which the main server takes the sidecar's revision webhook, and the environment it gets with it.</summary>
public sealed class RevisionWebhookAnnotation(string path, IReadOnlyDictionary<string, string> mainEnvironment) : IResourceAnnotation
{
    public string Path { get; } = path;

    public IReadOnlyDictionary<string, string> MainEnvironment { get; } = mainEnvironment;
}
