using Aspire.Hosting.ApplicationModel;

namespace Sidecar.AppHost;

/// <summary>The bundled demo origin: a smart-HTTP git server with the sample site, for running with no internet.</summary>
internal static class DemoOriginExtensions
{
    /// <summary>Adds the demo origin, storing its repositories under <paramref name="folder"/>; its health gates the sidecar's start.</summary>
    public static IResourceBuilder<ProjectResource> AddDemoOrigin(this IDistributedApplicationBuilder builder, [ResourceName] string name, string folder) =>
        builder.AddProject<Projects.Sidecar_DemoOrigin>(name)
            .WithHttpEndpoint()
            .WithEnvironment("DemoOrigin__RepositoriesRoot", folder)
            .WithHttpHealthCheck("/health")
            .WithUrlForEndpoint("http", url =>
            {
                url.Url = "/site.git";
                url.DisplayText = "site.git (clone and push here)";
            });

    /// <summary>The URL of the origin's sample-site repository.</summary>
    public static ReferenceExpression SiteRepositoryUrl(this IResourceBuilder<ProjectResource> origin) =>
        ReferenceExpression.Create($"{origin.GetEndpoint("http")}/site.git");
}
