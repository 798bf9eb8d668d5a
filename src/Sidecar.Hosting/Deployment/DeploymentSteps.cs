using Aspire.Hosting.Pipelines;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Aspire.Hosting.Deployment;

/// <summary>
/// Publish steps for the sidecar pattern. Aspire's own Kubernetes publisher gives every resource its own
/// Deployment, which cannot share an emptyDir; these steps put each main server and its sidecar in one Pod.
/// </summary>
public static class DeploymentSteps
{
    public const string Kubernetes = "publish-kubernetes";
    public const string Compose = "publish-compose";

    /// <summary>
    /// Adds <c>publish-kubernetes</c> (writes <c>sidecar.yaml</c>) and <c>publish-compose</c> (writes
    /// <c>docker-compose.yaml</c> and <c>.env</c>), run with <c>--operation publish --step NAME --output-path DIR</c>.
    /// </summary>
    public static IDistributedApplicationBuilder AddSidecarDeploymentSteps(this IDistributedApplicationBuilder builder)
    {
        builder.Pipeline.AddStep(Kubernetes, context => WriteAsync(context, "Kubernetes manifests", "sidecar.yaml",
            pods => [("sidecar.yaml", KubernetesManifests.ToYaml(pods.SelectMany(KubernetesManifests.For)))]));
        builder.Pipeline.AddStep(Compose, context => WriteAsync(context, "Docker Compose file", "docker-compose.yaml",
            pods => [("docker-compose.yaml", ComposeFile.ToYaml(pods)), (".env", ComposeFile.EnvironmentFile(pods))]));
        return builder;
    }

    private static async Task WriteAsync(PipelineStepContext context, string what, string mainFile,
        Func<IReadOnlyList<SidecarPod>, (string Name, string Text)[]> render)
    {
        var configuration = context.Services.GetRequiredService<IConfiguration>();
        IReadOnlyList<SidecarPod> pods;
        try
        {
            pods = await SidecarPod.FromModelAsync(context.Model, configuration, context.CancellationToken);
            if (pods.Count == 0)
            {
                throw new InvalidOperationException("no resource is served by a git-sync sidecar: call WithGitSyncSidecar(...) on the main server");
            }
        }
        catch (InvalidOperationException)
        {
            // Aspire stops the host on a failed step but exits 0; a script must see the failure.
            Environment.ExitCode = 1;
            throw;
        }
        var output = context.Services.GetRequiredService<IPipelineOutputService>().GetOutputDirectory();
        Directory.CreateDirectory(output);
        var task = await context.ReportingStep.CreateTaskAsync($"Writing {what}", context.CancellationToken);
        await using (task)
        {
            foreach (var (name, text) in render(pods))
            {
                await File.WriteAllTextAsync(Path.Combine(output, name), text, context.CancellationToken);
            }
            var path = Path.Combine(output, mainFile);
            context.Logger.LogInformation("Wrote {What} for {Pods} to {Path}", what, string.Join(", ", pods.Select(p => p.Name)), path);
            await task.CompleteAsync($"Wrote {path}", CompletionState.Completed, context.CancellationToken);
        }
    }
}
