using System.Diagnostics;
using System.Text.RegularExpressions;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Deployment;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Sidecar.Tests;

namespace Sidecar.AppHost.Tests;

/// <summary>
/// The sidecar is a resource type of its own: the real AppHost's model holds a <see cref="GitSyncResource"/> that still
/// runs as a .NET project, and the sidecar-only settings compile for it and for nothing else.
/// </summary>
[Trait("Category", "AppHost")]
public sealed partial class GitSyncResourceTests : IDisposable
{
    private readonly TempFolder work = new("sidecar-typed");

    public void Dispose() => work.Dispose();

    [Fact]
    public async Task TheAppHostsModelHoldsTheSidecarAsAGitSyncResourceThatRunsTheBundledProject()
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>([$"--Sidecar:DataDirectory={work.Path}"]);

        var sync = Assert.Single(builder.Resources.OfType<GitSyncResource>());
        Assert.Equal("sync", sync.Name);
        Assert.Equal("Sidecar.GitSync.csproj", Path.GetFileName(sync.GetProjectMetadata().ProjectPath));
        Assert.Equal("content", sync.Content.Name);
        Assert.Equal("sync-webhook-secret", sync.WebhookSecret.Name);
        Assert.Contains(sync.Annotations.OfType<ResourceCommandAnnotation>(), c => c.Name == GitSyncResource.SyncNowCommandName);
        Assert.Contains(sync.Annotations.OfType<HealthCheckAnnotation>(), h => h.Key == "sync-git-sync-status");
        Assert.Contains(sync.Annotations.OfType<EndpointAnnotation>(), e => e.Name == GitSyncResource.StatusEndpointName);
        // The main server knows its sidecar by type; nothing else in the model is one.
        var web = builder.Resources.Single(r => r.Name == "web");
        Assert.Same(sync, web.Annotations.OfType<GitSyncSidecarAnnotation>().Single().Sync);
        Assert.IsNotType<GitSyncResource>(builder.Resources.Single(r => r.Name == "origin"));
    }

    [Fact]
    public async Task TheSidecarOnlySettingsAreMethodsOfTheTypedBuilderAndWriteTheSidecarsEnvironment()
    {
        var builder = DistributedApplicationTestingBuilder.Create();
        var content = builder.AddSharedContent("content", work.Combine("content"));

        IResourceBuilder<GitSyncResource> sync = builder.AddGitSync("sync", ReferenceExpression.Create($"https://example.com/site.git"), content)
            .WithRef(builder.AddParameter("ref", "main"))
            .WithPeriod(builder.AddParameter("period", "30s"));

        Assert.IsType<GitSyncResource>(sync.Resource);
        Assert.Same(content.Resource, sync.Resource.Content);
        // Obsolete in Aspire 13 for ExecutionConfigurationBuilder; kept here for its publish-mode values as manifest expressions.
#pragma warning disable CS0618
        var environment = await sync.Resource.GetEnvironmentVariableValuesAsync(DistributedApplicationOperation.Publish);
#pragma warning restore CS0618
        Assert.Equal(("{ref.value}", "{period.value}"), (environment["GITSYNC_REF"], environment["GITSYNC_PERIOD"]));

        // It runs as AddProject runs a project: the same launch, telemetry, debugging and publishing wiring, then its own.
        var plain = builder.AddProject("plain", sync.Resource.GetProjectMetadata().ProjectPath);
        static string Kind(IResourceAnnotation a) => a is IProjectMetadata ? nameof(IProjectMetadata) : a.GetType().Name;
        var projectWiring = plain.Resource.Annotations.Select(Kind).ToList();
        Assert.Equal(projectWiring, sync.Resource.Annotations.Take(projectWiring.Count).Select(Kind));
    }

    [Fact]
    public async Task ASidecarThatServesNoMainServerIsRefusedByThePublishStepsWithTheCallThatWiresIt()
    {
        var builder = DistributedApplicationTestingBuilder.Create(["--operation", "publish", "--Sidecar:ImageRegistry=registry.example.com/team"]);
        builder.AddGitSync("sync", builder.AddParameter("repo", "https://example.com/org/site.git"), builder.AddSharedContent("content", work.Combine("unused")));
        await using var app = builder.Build();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => SidecarPod.FromModelAsync(app.Services.GetRequiredService<DistributedApplicationModel>(),
            app.Services.GetRequiredService<DistributedApplicationExecutionContext>(), app.Services.GetRequiredService<IConfiguration>(), CancellationToken.None));

        Assert.Contains("'sync'", error.Message);
        Assert.Contains(".WithGitSyncSidecar(sync)", error.Message);
    }

    [Fact]
    public async Task TheCompilerRefusesTheSidecarOnlySettingsOnAnyOtherResource()
    {
        // A project that uses the hosting API as a user's AppHost does: right on the sidecar, wrong on a plain project.
        const string Source = """
            using Aspire.Hosting;
            using Aspire.Hosting.ApplicationModel;

            public static class Wiring
            {
                public static void Wire(IDistributedApplicationBuilder builder)
                {
                    var content = builder.AddSharedContent("content", "content");
                    var sync = builder.AddGitSync("sync", builder.AddParameter("repo"), content)
                        .WithRef(builder.AddParameter("ref")).WithPeriod(builder.AddParameter("period"))
                        .WithSignatureVerification(GitSyncSignatureMode.Audit, allowedSignersFile: "allowed_signers");
                    var web = builder.AddProject("web", "web.csproj").WithGitSyncSidecar(sync);
                    web.WithRef(builder.AddParameter("ref2"));
                    web.WithPeriod(builder.AddParameter("period2"));
                    web.WithSignatureVerification(GitSyncSignatureMode.Enforce, allowedSignersFile: "allowed_signers");
                    builder.AddProject("other", "other.csproj").WithGitSyncSidecar(web);
                }
            }
            """;
        var project = work.Combine("wiring");
        Directory.CreateDirectory(project);
        await File.WriteAllTextAsync(Path.Combine(project, "Wiring.cs"), Source);
        var references = Directory.GetFiles(AppContext.BaseDirectory, "*.dll")
            .Where(f => Path.GetFileName(f) is var n && (n.StartsWith("Aspire.", StringComparison.Ordinal) || n.StartsWith("Microsoft.Extensions.", StringComparison.Ordinal)
                || n == "Sidecar.Hosting.dll"))
            .Select(f => $"""<Reference Include="{f}" />""");
        await File.WriteAllTextAsync(Path.Combine(project, "Wiring.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>{string.Join("", references)}</ItemGroup>
            </Project>
            """);

        var (exitCode, output) = await BuildAsync(project);

        Assert.NotEqual(0, exitCode);
        var errors = CompilerError().Matches(output).Select(m => (Line: int.Parse(m.Groups["line"].Value), Code: m.Groups["code"].Value)).Distinct().Order().ToList();
        // Lines 9-12 (the sidecar and its server) compile; each misuse is refused at its own line, naming the typed builder.
        Assert.True(errors.SequenceEqual([(13, "CS1929"), (14, "CS1929"), (15, "CS1929"), (16, "CS1503")]), output);
        Assert.Contains("IResourceBuilder<GitSyncResource>", output);
    }

    private static async Task<(int ExitCode, string Output)> BuildAsync(string project)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = project };
        // No build server or compiler server: the test leaves no process behind.
        foreach (var argument in (string[])["build", "-nologo", "-nodeReuse:false", "-p:UseSharedCompilation=false", "-clp:NoSummary"])
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, await output + await errors);
    }

    [GeneratedRegex(@"Wiring\.cs\((?<line>\d+),\d+\): error (?<code>CS\d+)")]
    private static partial Regex CompilerError();
}
