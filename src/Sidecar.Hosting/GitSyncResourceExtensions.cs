using Aspire.Hosting.ApplicationModel;

namespace Aspire.Hosting;

/// <summary>Wires a git-sync sidecar and the main server that reads what it publishes.</summary>
public static class GitSyncResourceExtensions
{
    /// <summary>The name of the sidecar's status endpoint (git-sync's <c>--http-bind</c>).</summary>
    public const string StatusEndpointName = "status";

    /// <summary>
    /// Makes <paramref name="sync"/> a git-sync sidecar of <paramref name="repo"/> publishing into
    /// <paramref name="folder"/>, with its readiness endpoint (503 until the first sync) as its health check.
    /// The settings go in as <c>GITSYNC_*</c> variables, so any git-sync v4 compatible program fits.
    /// </summary>
    public static IResourceBuilder<T> WithGitSync<T>(this IResourceBuilder<T> sync, ReferenceExpression repo, SharedContentFolder folder)
        where T : IResourceWithEnvironment, IResourceWithEndpoints
    {
        Directory.CreateDirectory(folder.Root);
        sync.WithHttpEndpoint(name: StatusEndpointName);
        var status = sync.GetEndpoint(StatusEndpointName);
        return sync
            .WithEnvironment("GITSYNC_REPO", repo)
            .WithEnvironment("GITSYNC_ROOT", folder.Root)
            .WithEnvironment("GITSYNC_LINK", folder.Link)
            .WithEnvironment("GITSYNC_HTTP_BIND", ReferenceExpression.Create($"127.0.0.1:{status.Property(EndpointProperty.TargetPort)}"))
            .WithHttpHealthCheck("/", endpointName: StatusEndpointName);
    }

    /// <summary>Makes <paramref name="sync"/> a git-sync sidecar of the repository in the <paramref name="repo"/> parameter.</summary>
    public static IResourceBuilder<T> WithGitSync<T>(this IResourceBuilder<T> sync, IResourceBuilder<ParameterResource> repo, SharedContentFolder folder)
        where T : IResourceWithEnvironment, IResourceWithEndpoints =>
        sync.WithGitSync(ReferenceExpression.Create($"{repo.Resource}"), folder);

    /// <summary>The branch, tag, commit or HEAD to sync (<c>GITSYNC_REF</c>).</summary>
    public static IResourceBuilder<T> WithGitRef<T>(this IResourceBuilder<T> sync, IResourceBuilder<ParameterResource> gitRef)
        where T : IResourceWithEnvironment => sync.WithEnvironment("GITSYNC_REF", gitRef);

    /// <summary>How often to poll, as a Go duration such as <c>10s</c> (<c>GITSYNC_PERIOD</c>).</summary>
    public static IResourceBuilder<T> WithSyncPeriod<T>(this IResourceBuilder<T> sync, IResourceBuilder<ParameterResource> period)
        where T : IResourceWithEnvironment => sync.WithEnvironment("GITSYNC_PERIOD", period);

    /// <summary>
    /// Makes <paramref name="main"/> serve what <paramref name="sync"/> publishes: it gets the link's path in
    /// <paramref name="rootVariable"/> and starts only once the sidecar has published a revision.
    /// </summary>
    public static IResourceBuilder<T> WithGitSyncSidecar<T, TSync>(this IResourceBuilder<T> main, IResourceBuilder<TSync> sync,
        SharedContentFolder folder, string rootVariable = "StaticWeb__Root")
        where T : IResourceWithEnvironment, IResourceWithWaitSupport
        where TSync : class, IResource
    {
        return main
            .WithEnvironment(rootVariable, folder.LinkPath)
            .WaitFor(sync);
    }
}
