// The Sidecar pattern: a git-sync sidecar and a static web server sharing one folder.
var builder = DistributedApplication.CreateBuilder(args);

var dataDirectory = Path.GetFullPath(builder.Configuration["Sidecar:DataDirectory"]
    ?? Path.Combine(builder.AppHostDirectory, ".data"));
var content = new SharedContentFolder(Path.Combine(dataDirectory, "content"));

var gitRef = builder.AddParameter("ref", "HEAD");
var period = builder.AddParameter("period", "10s");

var sync = builder.AddProject<Projects.Sidecar_GitSync>("sync");
if (string.IsNullOrWhiteSpace(builder.Configuration["Parameters:repo"]))
{
    // No repo given: sync the bundled demo origin, so the app runs with no internet.
    var origin = builder.AddProject<Projects.Sidecar_DemoOrigin>("origin")
        .AsDemoOrigin(Path.Combine(dataDirectory, "origin"));
    sync.WithGitSync(origin.SiteRepositoryUrl(), content).WaitFor(origin);
}
else
{
    sync.WithGitSync(builder.AddParameter("repo"), content);
}
sync.WithGitRef(gitRef).WithSyncPeriod(period);

builder.AddProject<Projects.Sidecar_StaticWeb>("web")
    .WithHttpEndpoint()
    .WithExternalHttpEndpoints()
    .WithHttpHealthCheck("/health")
    .WithGitSyncSidecar(sync, content);

builder.Build().Run();
