using Aspire.Hosting.Pipelines;
using k8s;
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
    public const string Azd = "publish-azd";

    /// <summary>Secret values are written only when asked: this keeps them, and only them, out of version control.</summary>
    private const string GitIgnore = "# Secret values (written only with --Sidecar:WriteSecretValues=true)\n.env\nsidecar-secrets.yaml\n";

    /// <summary>
    /// Adds <c>publish-kubernetes</c> (writes <c>sidecar.yaml</c>), <c>publish-compose</c> (writes <c>docker-compose.yaml</c>)
    /// and <c>publish-azd</c> (writes <c>azure.yaml</c> and the services' manifests), run with
    /// <c>--operation publish --step NAME --output-path DIR</c>. Each also writes <c>create-secrets.sh</c> and a <c>.gitignore</c>.
    /// </summary>
    public static IDistributedApplicationBuilder AddSidecarDeploymentSteps(this IDistributedApplicationBuilder builder)
    {
        builder.Pipeline.AddStep(Kubernetes, context => WriteAsync(context, "Kubernetes manifests", images: null, WriteKubernetesAsync));
        builder.Pipeline.AddStep(Compose, context => WriteAsync(context, "Docker Compose file", images: null, WriteComposeAsync, _ => [ComposeFile.TrustFolder]));
        builder.Pipeline.AddStep(Azd, context => WriteAsync(context, "azd project", AzdProject.TemplateImage, WriteAzdAsync,
            pods => pods.Select(p => Path.Combine(AzdProject.ManifestsFolder(p.Main), AzdProject.TrustManifest))));
        return builder;
    }

    private static async Task<IReadOnlyList<OutputFile>> WriteKubernetesAsync(IReadOnlyList<SidecarPod> pods, DeploymentSettings settings, string output, CancellationToken cancellationToken)
    {
        var objects = pods.SelectMany(p => KubernetesManifests.Objects(p, settings));
        var files = new List<OutputFile>
        {
            new("sidecar.yaml", KubernetesManifests.ToYaml(objects)),
            new("create-secrets.sh", KubernetesManifests.CreateSecretsScript(pods, settings), Executable: true),
        };
        if (settings.WriteSecretValues)
        {
            var secrets = new List<IKubernetesObject>();
            foreach (var pod in pods)
            {
                secrets.Add(await KubernetesManifests.SecretWithValuesAsync(pod, settings, cancellationToken));
            }
            files.Add(new("sidecar-secrets.yaml", KubernetesManifests.ToYaml(secrets), Secret: true));
        }
        return files;
    }

    private static async Task<IReadOnlyList<OutputFile>> WriteComposeAsync(IReadOnlyList<SidecarPod> pods, DeploymentSettings settings, string output, CancellationToken cancellationToken)
    {
        var files = new List<OutputFile>
        {
            new("docker-compose.yaml", ComposeFile.ToYaml(pods)),
            new("create-secrets.sh", ComposeFile.CreateSecretsScript(pods), Executable: true),
        };
        files.AddRange(ComposeFile.TrustFiles(pods).Select(f => new OutputFile(f.Path, "", Bytes: f.Content)));
        if (settings.WriteSecretValues)
        {
            files.Add(new(".env", await ComposeFile.EnvironmentFileAsync(pods, cancellationToken), Secret: true));
        }
        return files;
    }

    private static Task<IReadOnlyList<OutputFile>> WriteAzdAsync(IReadOnlyList<SidecarPod> pods, DeploymentSettings settings, string output, CancellationToken cancellationToken)
    {
        var files = new List<OutputFile>
        {
            new("azure.yaml", AzdProject.AzureYaml(pods, output)),
            new("create-secrets.sh", KubernetesManifests.CreateSecretsScript(pods, settings), Executable: true),
        };
        foreach (var pod in pods)
        {
            var (deployment, service) = AzdProject.MainTemplates(pod, settings);
            files.Add(new(Path.Combine(AzdProject.ManifestsFolder(pod.Main), "deployment.tmpl.yaml"), deployment));
            files.Add(new(Path.Combine(AzdProject.ManifestsFolder(pod.Main), "service.tmpl.yaml"), service));
            files.Add(new(Path.Combine(AzdProject.ManifestsFolder(pod.Sync), "sidecar-note.tmpl.yaml"), AzdProject.SyncTemplate(pod, settings)));
            if (AzdProject.TrustTemplate(pod, settings) is { } trust)
            {
                files.Add(new(Path.Combine(AzdProject.ManifestsFolder(pod.Main), AzdProject.TrustManifest), trust));
            }
        }
        return Task.FromResult<IReadOnlyList<OutputFile>>(files);
    }

    private static async Task WriteAsync(PipelineStepContext context, string what, Func<ApplicationModel.IResource, (string, bool)>? images,
        Func<IReadOnlyList<SidecarPod>, DeploymentSettings, string, CancellationToken, Task<IReadOnlyList<OutputFile>>> render, Func<IReadOnlyList<SidecarPod>, IEnumerable<string>>? trustPaths = null)
    {
        try
        {
            await WriteOutputsAsync(context, what, images, render, trustPaths);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Aspire runs the steps in a hosted service, whose failure stops the host with exit code 0 until .NET 11 (where
            // Host.RunAsync throws); there is no other hook for the code, and a script must see the failure.
            Environment.ExitCode = 1;
            throw;
        }
    }

    private static async Task WriteOutputsAsync(PipelineStepContext context, string what, Func<ApplicationModel.IResource, (string, bool)>? images,
        Func<IReadOnlyList<SidecarPod>, DeploymentSettings, string, CancellationToken, Task<IReadOnlyList<OutputFile>>> render, Func<IReadOnlyList<SidecarPod>, IEnumerable<string>>? trustPaths)
    {
        var configuration = context.Services.GetRequiredService<IConfiguration>();
        var output = context.Services.GetRequiredService<IPipelineOutputService>().GetOutputDirectory();
        var settings = DeploymentSettings.From(configuration);
        var pods = await SidecarPod.FromModelAsync(context.Model, context.ExecutionContext, configuration, context.CancellationToken, images);
        if (pods.Count == 0)
        {
            throw new InvalidOperationException("no resource is served by a git-sync sidecar: call WithGitSyncSidecar(...) on the main server");
        }
        var files = await render(pods, settings, output, context.CancellationToken);
        var task = await context.ReportingStep.CreateTaskAsync($"Writing {what}", context.CancellationToken);
        await using (task)
        {
            Directory.CreateDirectory(output);
            await WriteFileAsync(output, new OutputFile(".gitignore", GitIgnore), context.CancellationToken);
            // Written anew each time: a key dropped from the model must not stay trusted from an earlier publish.
            foreach (var path in trustPaths?.Invoke(pods).Select(p => Path.Combine(output, p)) ?? [])
            {
                if (Directory.Exists(path))
                {
                    Directory.Delete(path, recursive: true);
                }
                else if (File.Exists(path))
                {
                    File.Delete(path);
                }
            }
            foreach (var file in files)
            {
                await WriteFileAsync(output, file, context.CancellationToken);
            }
            context.Logger.LogInformation("Wrote {What} for {Pods} to {Path}: {Files}", what, string.Join(", ", pods.Select(p => p.Name)), output,
                string.Join(", ", files.Select(f => f.Name)));
            await task.CompleteAsync($"Wrote {what} to {output}", CompletionState.Completed, context.CancellationToken);
        }
    }

    private static async Task WriteFileAsync(string output, OutputFile file, CancellationToken cancellationToken)
    {
        var path = Path.Combine(output, file.Name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var mode = file.Secret ? UnixFileMode.UserRead | UnixFileMode.UserWrite
            : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead
              | (file.Executable ? UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute : 0);
        File.Delete(path);
        // Created with its mode, so a secret is never readable by others, not even for a moment.
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = mode;
        }
        await using var stream = new FileStream(path, options);
        if (file.Bytes is not null)
        {
            await stream.WriteAsync(file.Bytes, cancellationToken);
            return;
        }
        await using var writer = new StreamWriter(stream);
        await writer.WriteAsync(file.Text.AsMemory(), cancellationToken);
    }

    /// <param name="Bytes">The content as it is, for a file copied (a binary key); else <paramref name="Text"/> is written as UTF-8.</param>
    private sealed record OutputFile(string Name, string Text, bool Secret = false, bool Executable = false, byte[]? Bytes = null);
}
