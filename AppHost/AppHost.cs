// The Sidecar pattern: a git-sync sidecar and a static web server that share one folder.
using Aspire.Hosting.Deployment;
using Sidecar.AppHost;

var builder = DistributedApplication.CreateBuilder(args);

var data = Path.GetFullPath(builder.Configuration["Sidecar:DataDirectory"] ?? Path.Combine(builder.AppHostDirectory, ".data"));
var content = builder.AddSharedContent("content", Path.Combine(data, "content"));
var gitRef = builder.AddParameterWithDefault("ref", "HEAD");
var period = builder.AddParameterWithDefault("period", "10s");
var replicas = builder.AddParameterWithDefault("replicas", "2");

IResourceBuilder<GitSyncResource> sync;
if (builder.ExecutionContext.IsRunMode && string.IsNullOrWhiteSpace(builder.Configuration["Parameters:repo"]))
{
    // No repo given: sync the bundled demo origin, so the app runs with no internet.
    var origin = builder.AddDemoOrigin("origin", Path.Combine(data, "origin"));
    sync = builder.AddGitSync("sync", origin.SiteRepositoryUrl(), content).WaitFor(origin);
}
else
{
    sync = builder.AddGitSync("sync", builder.AddParameter("repo"), content);
}
sync.WithRef(gitRef).WithPeriod(period);

builder.AddProject<Projects.Sidecar_StaticWeb>("web")
    .WithHttpEndpoint()
    .WithExternalHttpEndpoints()
    .WithHttpHealthCheck("/health")
    .WithUrlForEndpoint("http", url => url.DisplayText = "Site")
    .WithGitSyncSidecar(sync)
    .WithReplicas(replicas);

builder.AddSidecarDeploymentSteps();

builder.Build().Run();
