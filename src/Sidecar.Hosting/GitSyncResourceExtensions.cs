using System.Reflection;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Aspire.Hosting;

/// <summary>Adds a git-sync sidecar, its sidecar-only settings, and wires the main server that serves what it publishes.</summary>
public static class GitSyncResourceExtensions
{
    // Where the bundled Sidecar.GitSync project is; written into this assembly at build time, as Aspire does for Projects.*.
    private static readonly string GitSyncProjectPath = typeof(GitSyncResourceExtensions).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "Sidecar.GitSync.ProjectPath").Value!;

    /// <summary>Adds the bundled Sidecar.GitSync as a sidecar syncing the repository in <paramref name="repo"/> into <paramref name="content"/>.</summary>
    public static IResourceBuilder<GitSyncResource> AddGitSync(this IDistributedApplicationBuilder builder, [ResourceName] string name,
        IResourceBuilder<ParameterResource> repo, IResourceBuilder<SharedContentResource> content) =>
        builder.AddGitSync(name, ReferenceExpression.Create($"{repo.Resource}"), content);

    /// <summary>
    /// Adds the bundled Sidecar.GitSync as a sidecar syncing the repository at <paramref name="repo"/> into <paramref name="content"/>.
    /// It runs as any .NET project does; its settings go in as git-sync v4's <c>GITSYNC_*</c> variables, its status
    /// endpoint is its health (unhealthy until the first publish, degraded after failed syncs), the dashboard shows
    /// its revision and gets a "Sync now" command.
    /// </summary>
    public static IResourceBuilder<GitSyncResource> AddGitSync(this IDistributedApplicationBuilder builder, [ResourceName] string name,
        ReferenceExpression repo, IResourceBuilder<SharedContentResource> content)
    {
        var context = builder.ExecutionContext;
        var secret = ParameterResourceBuilderExtensions.CreateDefaultPasswordParameter(builder, $"{name}-webhook-secret", special: false);
#pragma warning disable ASPIREPROJECTS001 // Aspire's way to run a .NET project as a resource type of its own (as its CSharpAppResource does); experimental in Aspire 13.
        var sync = builder.AddResource(new GitSyncResource(name, content.Resource, secret))
            .WithAnnotation<IProjectMetadata>(new GitSyncProject(GitSyncProjectPath))
            .WithProjectDefaults(new ProjectResourceOptions());
#pragma warning restore ASPIREPROJECTS001

        sync.WithHttpEndpoint(name: GitSyncResource.StatusEndpointName);
        var status = sync.Resource.StatusEndpoint;
        // Here the status port is for the AppHost only; in a Pod the kubelet probes it from outside the container.
        var bindHost = context.IsRunMode ? "127.0.0.1" : "";
        sync.WithEnvironment("GITSYNC_REPO", repo)
            .WithEnvironment("GITSYNC_ROOT", content.Resource.RootFor(context))
            .WithEnvironment("GITSYNC_LINK", content.Resource.Link)
            .WithEnvironment("GITSYNC_HTTP_BIND", ReferenceExpression.Create($"{bindHost}:{status.Property(EndpointProperty.TargetPort)}"))
            .WithEnvironment("GITSYNC_HTTP_METRICS", "true")
            // Keep serving the last good revision through failures and report them as degraded, rather than exit.
            .WithEnvironment("GITSYNC_MAX_FAILURES", "-1")
            .WithEnvironment("GITSYNC_WEBHOOK_SECRET", secret)
            .WithRelationship(content.Resource, "Writes")
            .WithUrlForEndpoint(GitSyncResource.StatusEndpointName, url =>
            {
                url.Url = "/status";
                url.DisplayText = "Sync status";
            });

        var healthCheckKey = $"{name}-git-sync-status";
        builder.Services.AddHttpClient();
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(healthCheckKey,
            services => new GitSyncStatusHealthCheck(sync.Resource, services),
            failureStatus: HealthStatus.Unhealthy, tags: null));
        sync.WithHealthCheck(healthCheckKey);

        return sync.WithSyncNowCommand();
    }

    /// <summary>The branch, tag, full commit SHA or HEAD to sync (<c>GITSYNC_REF</c>).</summary>
    public static IResourceBuilder<GitSyncResource> WithRef(this IResourceBuilder<GitSyncResource> sync, IResourceBuilder<ParameterResource> gitRef) =>
        sync.WithEnvironment("GITSYNC_REF", gitRef);

    /// <summary>How often the sidecar polls, as a Go duration such as <c>10s</c> (<c>GITSYNC_PERIOD</c>).</summary>
    public static IResourceBuilder<GitSyncResource> WithPeriod(this IResourceBuilder<GitSyncResource> sync, IResourceBuilder<ParameterResource> period) =>
        sync.WithEnvironment("GITSYNC_PERIOD", period);

    /// <summary>
    /// Makes <paramref name="main"/> serve what <paramref name="sync"/> publishes: it is told the link's path in
    /// <paramref name="rootVariable"/>, starts once the sidecar has published a revision, and, when
    /// <paramref name="revisionWebhookPath"/> is given, the sidecar tells it of each new revision at that path of
    /// its <paramref name="endpointName"/> endpoint (W3C trace context included).
    /// </summary>
    /// <param name="webhookEnvironment">Environment the main server gets when the webhook is wired, in every run and deployment.</param>
    /// <param name="webhookSecretVariable">
    /// When given, the webhook carries a secret of its own as <c>Authorization: Bearer</c> (the sidecar's
    /// <c>GITSYNC_WEBHOOK_TOKEN</c>), and the main server is given it in this variable to check it.
    /// </param>
    public static IResourceBuilder<T> WithGitSyncSidecar<T>(this IResourceBuilder<T> main, IResourceBuilder<GitSyncResource> sync,
        string rootVariable = "StaticWeb__Root", string? revisionWebhookPath = null, string endpointName = "http",
        IReadOnlyDictionary<string, string>? webhookEnvironment = null, string? webhookSecretVariable = null)
        where T : IResourceWithEnvironment, IResourceWithWaitSupport
    {
        var content = sync.Resource.Content;
        main.WithAnnotation(new GitSyncSidecarAnnotation(sync.Resource, rootVariable))
            .WithEnvironment(rootVariable, content.LinkPathFor(main.ApplicationBuilder.ExecutionContext))
            .WithRelationship(content, "Reads")
            .WaitFor(sync);
        if (revisionWebhookPath is not null && main.Resource is IResourceWithEndpoints withEndpoints)
        {
            var endpoint = withEndpoints.GetEndpoint(endpointName);
            sync.WithEnvironment("GITSYNC_WEBHOOK_URL", ReferenceExpression.Create($"{endpoint}{revisionWebhookPath}"));
            foreach (var (name, value) in webhookEnvironment ?? new Dictionary<string, string>())
            {
                main.WithEnvironment(name, value);
            }
            if (webhookSecretVariable is not null)
            {
                // Its own secret, not the one that guards POST /sync: the server that checks it cannot also trigger syncs.
                var secret = ParameterResourceBuilderExtensions.CreateDefaultPasswordParameter(main.ApplicationBuilder,
                    $"{main.Resource.Name}-revision-webhook-secret", special: false);
                sync.WithEnvironment("GITSYNC_WEBHOOK_TOKEN", secret);
                main.WithEnvironment(webhookSecretVariable, secret);
            }
        }
        return main;
    }

    /// <summary>
    /// Serves what the sidecar publishes with Sidecar.StaticWeb, which also takes the sidecar's revision webhook
    /// (authenticated with its own secret) and, since it is told of every revision, reads the link only then
    /// (<c>StaticWeb__RevisionCheck=webhook</c>) instead of at every request.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithGitSyncSidecar(this IResourceBuilder<ProjectResource> web, IResourceBuilder<GitSyncResource> sync) =>
        web.WithGitSyncSidecar(sync, "StaticWeb__Root", "/_sidecar/revision",
            webhookEnvironment: new Dictionary<string, string> { ["StaticWeb__RevisionCheck"] = "webhook" },
            webhookSecretVariable: "StaticWeb__RevisionWebhookSecret");

    /// <summary>How many copies of the main server and its sidecar a deployment runs (Kubernetes replicas).</summary>
    public static IResourceBuilder<T> WithReplicas<T>(this IResourceBuilder<T> main, IResourceBuilder<ParameterResource> replicas)
        where T : IResource => main.WithAnnotation(new Deployment.ReplicasAnnotation(replicas.Resource));

    // The bundled project, as Aspire's own project metadata gives it for Projects.* (its launch settings: none).
    private sealed class GitSyncProject(string projectPath) : IProjectMetadata
    {
        public string ProjectPath { get; } = projectPath;
    }
}
