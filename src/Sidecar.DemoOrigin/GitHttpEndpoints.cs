namespace Sidecar.DemoOrigin;

public static class GitHttpEndpoints
{
    /// <summary>Serves every repository under <paramref name="projectRoot"/> at <c>/{name}.git</c> over smart HTTP.</summary>
    public static IEndpointRouteBuilder MapGitHttpBackend(this IEndpointRouteBuilder endpoints, string projectRoot)
    {
        var backend = new GitHttpBackend(projectRoot,
            endpoints.ServiceProvider.GetRequiredService<ILogger<GitHttpBackend>>());
        endpoints.Map("/{repository}.git/{**rest}", (HttpContext context, string repository, string? rest) =>
            backend.HandleAsync(context, $"{repository}.git/{rest}"));
        return endpoints;
    }
}
