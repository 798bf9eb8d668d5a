using Aspire.Hosting.ApplicationModel;

namespace Aspire.Hosting;

/// <summary>
/// The folder the sidecar and the main server share. On this machine it is a plain folder
/// (<see cref="HostPath"/>); in a Pod it is an emptyDir, and in Compose a named volume, mounted
/// at <see cref="ContainerPath"/> in both containers.
/// </summary>
public sealed class SharedContentResource(string name, string hostPath, string link) : Resource(name)
{
    /// <summary>
    /// Where the folder is mounted in both containers when deployed: a folder the images hold, owned by the app user
    /// (src/Directory.Build.targets), so a fresh volume mounted there is the sidecar's to write.
    /// </summary>
    public const string ContainerPath = "/app/content";

    public string HostPath { get; } = hostPath;

    /// <summary>The name of the link the sidecar publishes and the main server serves.</summary>
    public string Link { get; } = link;

    /// <summary>The folder as the services see it: the host path when run here, the mount path when deployed.</summary>
    public string RootFor(DistributedApplicationExecutionContext context) => context.IsRunMode ? HostPath : ContainerPath;

    /// <summary>The link as the services see it.</summary>
    public string LinkPathFor(DistributedApplicationExecutionContext context) =>
        context.IsRunMode ? Path.Combine(HostPath, Link) : $"{ContainerPath}/{Link}";
}

public static class SharedContentResourceExtensions
{
    /// <summary>
    /// Adds the shared folder. <paramref name="hostPath"/> is used when the app runs on this machine
    /// (project and executable resources share it directly); deployments mount a volume instead.
    /// </summary>
    public static IResourceBuilder<SharedContentResource> AddSharedContent(this IDistributedApplicationBuilder builder,
        [ResourceName] string name, string hostPath, string link = "current")
    {
        var resource = new SharedContentResource(name, Path.GetFullPath(hostPath), link);
        if (builder.ExecutionContext.IsRunMode)
        {
            Directory.CreateDirectory(resource.HostPath);
        }
        return builder.AddResource(resource)
            .WithInitialState(new CustomResourceSnapshot
            {
                ResourceType = "SharedFolder",
                State = new ResourceStateSnapshot("Ready", KnownResourceStateStyles.Success),
                Properties =
                [
                    new("sidecar.path", resource.HostPath),
                    new("sidecar.link", link),
                ],
            })
            // azd accepts only the manifest types it knows: the folder is deployed as part of its Pod, not as a resource.
            .ExcludeFromManifest();
    }
}
