using Aspire.Hosting.ApplicationModel;

namespace Aspire.Hosting;

/// <summary>The bundled demo origin: a smart-HTTP git server with the sample site, for running with no internet.</summary>
public static class DemoOriginExtensions
{
    /// <summary>Stores the origin's repositories under <paramref name="folder"/>; its health gates the sidecar's start.</summary>
    public static IResourceBuilder<ProjectResource> AsDemoOrigin(this IResourceBuilder<ProjectResource> origin, string folder) =>
        origin
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
