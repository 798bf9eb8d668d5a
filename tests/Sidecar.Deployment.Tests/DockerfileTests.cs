using System.Diagnostics;
using System.Formats.Tar;
using Xunit.Abstractions;

namespace Sidecar.Deployment.Tests;

/// <summary>
/// Both ways of making the images, the SDK's <c>-t:PublishContainer</c> (deploy/test/setup.sh publishes them) and the
/// Dockerfiles (for azd's AKS host, built from the <c>dotnet publish</c> output in out/publish/), hold the shared mount
/// point /app/content owned by the app user on a base that has none, and run on the local base.
/// </summary>
[Trait("Category", "Deployment")]
public sealed class DockerfileTests(ITestOutputHelper output) : DeploymentTest(output)
{
    private static readonly string[] Services = ["Sidecar.GitSync", "Sidecar.StaticWeb"];

    [DeploymentFact]
    public void EveryImageHoldsTheMountPointOwnedByTheAppUser()
    {
        foreach (var service in Services)
        {
            var repository = service.ToLowerInvariant().Replace('.', '-');
            // The SDK's image, on the local base (which, like Microsoft's, has no mount point of its own).
            var published = Image(repository);
            Command.Run(Infrastructure.Docker, ["pull", "--quiet", published], timeout: TimeSpan.FromMinutes(2));
            AssertMountPointOwnedByTheAppUser(published, $"{Project}-{repository}-sdk");
            // The Dockerfile's, from an empty base: the image's /app/content can only be the Dockerfile's own.
            var built = Build(service, "scratch");
            try
            {
                AssertMountPointOwnedByTheAppUser(built, $"{Project}-{repository}-dockerfile");
            }
            finally
            {
                Command.TryRun(Infrastructure.Docker, ["image", "rm", "--force", built]);
            }
        }
    }

    private void AssertMountPointOwnedByTheAppUser(string image, string container)
    {
        try
        {
            Command.Run(Infrastructure.Docker, ["create", "--name", container, image]);
            var export = Path.Combine(Folder.Path, container + ".tar");
            Command.Run(Infrastructure.Docker, ["export", "--output", export, container]);
            using var reader = new TarReader(File.OpenRead(export));
            TarEntry? content = null;
            while (reader.GetNextEntry() is { } entry)
            {
                if (entry.Name.TrimEnd('/') == "app/content")
                {
                    content = entry;
                }
            }
            Assert.True(content is not null, $"{image} has no /app/content");
            Assert.Equal(TarEntryType.Directory, content.EntryType);
            Assert.Equal(1654, content.Uid);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead
                | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute, content.Mode);
            Output.WriteLine($"{image}: /app/content {content.Uid}:{content.Gid} {content.Mode}");
        }
        finally
        {
            Command.TryRun(Infrastructure.Docker, ["rm", "--force", container]);
        }
    }

    [DeploymentFact]
    public async Task TheDockerfileImagesShareAFreshVolumeOnTheLocalBase()
    {
        var baseImage = $"{Infrastructure.Registry}/base:1";
        var sync = Build("Sidecar.GitSync", baseImage);
        var web = Build("Sidecar.StaticWeb", baseImage);
        var volume = $"{Project}-content";
        string Logs() => string.Concat(new[] { "sync", "web" }.Select(s =>
            $"--- {s}:\n{Command.TryRun(Infrastructure.Docker, ["logs", "--tail", "40", $"{Project}-{s}"]).Output}"));
        try
        {
            // As the deployments run them: non-root, read-only root file system, one fresh named volume.
            Command.Run(Infrastructure.Docker, ["run", "--detach", "--name", $"{Project}-sync", "--read-only", "--tmpfs", "/tmp",
                "--mount", $"type=volume,source={volume},destination=/app/content",
                "--env", $"GITSYNC_REPO={Site.Url}", "--env", "GITSYNC_ROOT=/app/content", "--env", "GITSYNC_LINK=current",
                "--env", $"GITSYNC_PERIOD={Period.TotalSeconds}s", "--env", "GITSYNC_HTTP_BIND=:8081", sync]);
            var syncAddress = Command.Run(Infrastructure.Docker, ["inspect", "--format", "{{.NetworkSettings.IPAddress}}", $"{Project}-sync"]).Trim();
            await WaitForOkAsync($"http://{syncAddress}:8081/", TimeSpan.FromMinutes(1), Logs);
            Command.Run(Infrastructure.Docker, ["run", "--detach", "--name", $"{Project}-web", "--read-only", "--tmpfs", "/tmp",
                "--mount", $"type=volume,source={volume},destination=/app/content,readonly",
                "--env", "StaticWeb__Root=/app/content/current", web]);
            var webAddress = Command.Run(Infrastructure.Docker, ["inspect", "--format", "{{.NetworkSettings.IPAddress}}", $"{Project}-web"]).Trim();
            await WaitForPageAsync($"http://{webAddress}:8080", "v1", TimeSpan.FromMinutes(1), Logs);
        }
        finally
        {
            Command.TryRun(Infrastructure.Docker, ["rm", "--force", $"{Project}-sync", $"{Project}-web"]);
            Command.TryRun(Infrastructure.Docker, ["volume", "rm", "--force", volume]);
            Command.TryRun(Infrastructure.Docker, ["image", "rm", "--force", sync, web]);
        }
    }

    /// <summary>Builds a service's Dockerfile from the repository root, as its header says, on the given base.</summary>
    private string Build(string service, string baseImage)
    {
        var repository = service.ToLowerInvariant().Replace('.', '-');
        Assert.True(Directory.Exists(Path.Combine(Infrastructure.RepositoryRoot, "out", "publish", repository)),
            $"out/publish/{repository} is missing: deploy/test/setup.sh up publishes it");
        var image = $"{Project}-{repository}:{(baseImage == "scratch" ? "scratch" : "base")}";
        var started = Stopwatch.StartNew();
        Command.Run(Infrastructure.Docker, ["build", "--quiet", "--file", Path.Combine("src", service, "Dockerfile"),
            "--build-arg", $"BASE_IMAGE={baseImage}", "--tag", image, "."], Infrastructure.RepositoryRoot,
            new Dictionary<string, string> { ["DOCKER_BUILDKIT"] = "1" }, TimeSpan.FromMinutes(5));
        Output.WriteLine($"docker build {service} on {baseImage}: {started.Elapsed.TotalSeconds:F1} s");
        return image;
    }
}
