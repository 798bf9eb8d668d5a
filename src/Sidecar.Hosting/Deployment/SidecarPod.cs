using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;

namespace Aspire.Hosting.Deployment;

/// <summary>
/// One main server and its git-sync sidecar, as they are deployed together: one Pod (Kubernetes) or two
/// services on one volume (Compose). Everything in it is read from the app model as Aspire evaluates it for
/// publish: each resource's environment, arguments and endpoints, so what runs under the AppHost runs the same way deployed.
/// </summary>
public sealed record SidecarPod(
    string Name,
    DeployedContainer Main,
    DeployedContainer Sync,
    int Replicas,
    string ContentLink,
    SignatureTrust? Trust = null)
{
    /// <summary>The first port given to an endpoint without a target port of its own; the Pod's containers share one network.</summary>
    public const int FirstPort = 8080;

    public IEnumerable<DeployedContainer> Containers => [Main, Sync];

    /// <summary>The secret parameters the Pod's values refer to, each once.</summary>
    public IReadOnlyList<ParameterResource> Secrets =>
        Containers.SelectMany(c => c.Environment.Values.Concat(c.Arguments)).SelectMany(v => v.Secrets).Distinct().ToList();

    /// <summary>The container that has <paramref name="endpoint"/>, or null when it belongs to no container of this Pod.</summary>
    public DeployedContainer? Owner(EndpointReference endpoint) =>
        Containers.FirstOrDefault(c => ReferenceEquals(c.Resource, endpoint.Resource));

    /// <summary>The container port of an endpoint of this Pod.</summary>
    public int PortOf(EndpointReference endpoint) =>
        Owner(endpoint)?.Ports.FirstOrDefault(p => p.Name == endpoint.EndpointName)?.Port
            ?? throw new InvalidOperationException($"the endpoint '{endpoint.EndpointName}' of '{endpoint.Resource.Name}' is not in the Pod of '{Name}': a deployment reaches only the containers of its own Pod");

    /// <summary>An endpoint property as the target sees it: <paramref name="host"/> names the container's address there.</summary>
    public string Render(EndpointPart part, Func<DeployedContainer, string> host)
    {
        var owner = Owner(part.Endpoint);
        var port = PortOf(part.Endpoint).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var scheme = owner!.Ports.First(p => p.Name == part.Endpoint.EndpointName).Scheme;
        return part.Property switch
        {
            EndpointProperty.Url => $"{scheme}://{host(owner)}:{port}",
            EndpointProperty.Host or EndpointProperty.IPV4Host => host(owner),
            EndpointProperty.Port or EndpointProperty.TargetPort => port,
            EndpointProperty.Scheme => scheme,
            EndpointProperty.HostAndPort => $"{host(owner)}:{port}",
            _ => throw new InvalidOperationException($"the endpoint property {part.Property} of '{owner.Name}' has no meaning in a deployment"),
        };
    }

    /// <summary>Finds every main resource served by a git-sync sidecar and reads both resources as Aspire evaluates them for publish.</summary>
    public static async Task<IReadOnlyList<SidecarPod>> FromModelAsync(DistributedApplicationModel model, DistributedApplicationExecutionContext executionContext,
        IConfiguration configuration, CancellationToken cancellationToken, Func<IResource, (string Image, bool IsProjectImage)>? images = null)
    {
        images ??= resource => DeployedContainer.ImageFor(resource, configuration);
        var pods = new List<SidecarPod>();
        foreach (var main in model.Resources)
        {
            if (main.Annotations.OfType<GitSyncSidecarAnnotation>().SingleOrDefault() is not { } served)
            {
                continue;
            }
            var ports = new HashSet<int>();
            var mainContainer = await DeployedContainer.FromAsync(main, images(main), executionContext, ports, cancellationToken);
            var syncContainer = await DeployedContainer.FromAsync(served.Sync, images(served.Sync), executionContext, ports, cancellationToken);
            RefuseCredentialsInRepoUrl(syncContainer);
            pods.Add(new SidecarPod(main.Name, mainContainer, syncContainer, await ReplicasOfAsync(main, cancellationToken), served.Sync.Content.Link,
                SignatureTrust.Of(served.Sync)));
        }
        if (model.Resources.OfType<GitSyncResource>().FirstOrDefault(s => !pods.Any(p => ReferenceEquals(p.Sync.Resource, s))) is { } unserved)
        {
            throw new InvalidOperationException($"the git-sync sidecar '{unserved.Name}' serves no main server, so no Pod would run it: call .WithGitSyncSidecar({unserved.Name}) on the server that serves its content");
        }
        return pods;
    }

    // git writes the URL into <root>/.git/config, on the volume the main server reads.
    private static void RefuseCredentialsInRepoUrl(DeployedContainer sync)
    {
        if (sync.Environment.TryGetValue("GITSYNC_REPO", out var repo)
            && repo.Parts.OfType<LiteralPart>().Any(p => Uri.TryCreate(p.Text, UriKind.Absolute, out var uri) && uri.UserInfo.Contains(':')))
        {
            throw new InvalidOperationException(
                "the repository URL carries a password, which git would keep in .git/config on the shared volume: give the URL without it and "
                + "use --Sidecar:GitCredentials=password --Sidecar:GitUsername=NAME (a password file from a Secret) or --Sidecar:GitCredentials=ssh");
        }
    }

    private static async Task<int> ReplicasOfAsync(IResource main, CancellationToken cancellationToken)
    {
        if (main.Annotations.OfType<ReplicasAnnotation>().SingleOrDefault() is not { } annotation)
        {
            return 1;
        }
        var text = await DeploymentValue.ParameterValueAsync(annotation.Replicas, cancellationToken);
        return int.TryParse(text, out var replicas) && replicas >= 1
            ? replicas
            : throw new InvalidOperationException($"replicas '{text}' is not a whole number of at least 1: set --Parameters:replicas=2, for example");
    }
}

/// <summary>One resource of the model as a container: its image, environment, arguments and ports, evaluated for publish.</summary>
public sealed record DeployedContainer(
    string Name,
    IResource Resource,
    string Image,
    bool IsProjectImage,
    IReadOnlyDictionary<string, DeploymentValue> Environment,
    IReadOnlyList<DeploymentValue> Arguments,
    IReadOnlyList<DeployedPort> Ports)
{
    public static async Task<DeployedContainer> FromAsync(IResource resource, (string Image, bool IsProjectImage) image,
        DistributedApplicationExecutionContext executionContext, HashSet<int> usedPorts, CancellationToken cancellationToken)
    {

        var raw = new Dictionary<string, object>();
        if (resource.TryGetEnvironmentVariables(out var environmentCallbacks))
        {
            var context = new EnvironmentCallbackContext(executionContext, resource, raw, cancellationToken);
            foreach (var callback in environmentCallbacks)
            {
                await callback.Callback(context);
            }
        }
        // The service name the telemetry carries; the AppHost sets it when it runs the resource.
        raw.TryAdd("OTEL_SERVICE_NAME", resource.Name);
        var environment = new Dictionary<string, DeploymentValue>();
        foreach (var (name, value) in raw)
        {
            environment[name] = await DeploymentValue.FromAsync(value, $"the variable {name} of '{resource.Name}'", cancellationToken);
        }

        var rawArguments = new List<object>();
        if (resource.TryGetAnnotationsOfType<CommandLineArgsCallbackAnnotation>(out var argumentCallbacks))
        {
            var context = new CommandLineArgsCallbackContext(rawArguments, resource, cancellationToken) { ExecutionContext = executionContext };
            foreach (var callback in argumentCallbacks)
            {
                await callback.Callback(context);
            }
        }
        var arguments = new List<DeploymentValue>();
        foreach (var argument in rawArguments)
        {
            arguments.Add(await DeploymentValue.FromAsync(argument, $"an argument of '{resource.Name}'", cancellationToken));
        }

        var endpoints = resource.Annotations.OfType<EndpointAnnotation>().ToList();
        foreach (var endpoint in endpoints.Where(e => e.TargetPort is not null))
        {
            usedPorts.Add(endpoint.TargetPort!.Value);
        }
        var ports = new List<DeployedPort>();
        foreach (var endpoint in endpoints)
        {
            var port = endpoint.TargetPort ?? NextFree(usedPorts);
            usedPorts.Add(port);
            ports.Add(new DeployedPort(endpoint.Name, port, endpoint.UriScheme, endpoint.IsExternal));
        }
        return new DeployedContainer(resource.Name, resource, image.Image, image.IsProjectImage, environment, arguments, ports);
    }

    private static int NextFree(HashSet<int> used)
    {
        var port = SidecarPod.FirstPort;
        while (used.Contains(port))
        {
            port++;
        }
        return port;
    }

    /// <summary>
    /// The image of a resource: <c>Sidecar:Images:NAME</c> if set (another server, such as nginx), else the repository
    /// the project's container build uses (<c>sidecar-gitsync</c>, <c>sidecar-staticweb</c>) under the required
    /// <c>Sidecar:ImageRegistry</c>, tagged <c>Sidecar:ImageTag</c> (default <c>latest</c>).
    /// </summary>
    public static (string Image, bool IsProjectImage) ImageFor(IResource resource, IConfiguration configuration)
    {
        if (configuration[$"Sidecar:Images:{resource.Name}"] is { Length: > 0 } image)
        {
            return (image, false);
        }
        var repository = resource is ProjectResource project
            ? ContainerRepositoryOf(project.GetProjectMetadata().ProjectPath)
            : resource.Name;
        var registry = configuration["Sidecar:ImageRegistry"]?.TrimEnd('/');
        if (string.IsNullOrEmpty(registry))
        {
            // A bare name would be pulled from Docker Hub, where these images are not.
            throw new InvalidOperationException(
                $"no registry for the image of '{resource.Name}': set --Sidecar:ImageRegistry=HOST[:PORT][/PATH] (the registry you pushed {repository} to), or --Sidecar:Images:{resource.Name}=IMAGE");
        }
        var tag = configuration["Sidecar:ImageTag"] is { Length: > 0 } t ? t : "latest";
        return ($"{registry}/{repository}:{tag}", true);
    }

    /// <summary>The container repository name the projects' container build uses: <c>Sidecar.GitSync</c> gives <c>sidecar-gitsync</c>.</summary>
    public static string ContainerRepositoryOf(string projectPath) =>
        Path.GetFileNameWithoutExtension(projectPath).Replace('.', '-').ToLowerInvariant();
}

public sealed record DeployedPort(string Name, int Port, string Scheme, bool IsExternal);

/// <summary>How many copies of the Pod a deployment runs.</summary>
public sealed class ReplicasAnnotation(ParameterResource replicas) : IResourceAnnotation
{
    public ParameterResource Replicas { get; } = replicas;
}
