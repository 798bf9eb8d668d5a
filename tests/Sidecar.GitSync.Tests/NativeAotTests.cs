using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using Sidecar.Tests;

namespace Sidecar.GitSync.Tests;

/// <summary>
/// The sidecar as it is deployed: <c>dotnet publish</c> compiles it ahead of time (Native AOT) into one executable.
/// The rest of the suite runs the JIT build; these run the published executable through the paths where the two can
/// differ: the reflection into LibGit2Sharp that keeps <c>--depth</c>, libgit2's native calls, configuration binding,
/// the HTTP endpoints, signals and a hard kill.
/// </summary>
[Trait("Category", "Aot")]
public sealed class NativeAotTests(NativeAotBuild build) : IClassFixture<NativeAotBuild>, IAsyncLifetime
{
    private const int SigTerm = 15;
    private SyncTestBed bed = null!;

    public async Task InitializeAsync() => bed = await SyncTestBed.StartAsync();

    public async Task DisposeAsync() => await bed.DisposeAsync();

    [Fact]
    public void ThePublishedSidecarIsOneNativeExecutable()
    {
        Assert.True(File.Exists(build.Binary), build.Log);
        // No IL of our own and no runtime next to it: nothing for a JIT to compile or map.
        Assert.Empty(Directory.GetFiles(build.Output, "*.dll"));
        Assert.Empty(Directory.GetFiles(build.Output, "*.runtimeconfig.json"));
        // Its 43 MB of native symbols stay out of the image.
        Assert.Empty(Directory.GetFiles(build.Output, "*.dbg"));
    }

    [Fact]
    public async Task ItSyncsShallowServesItsEndpointsAndStopsCleanly()
    {
        var first = await bed.Repository.CommitAsync("one", ("index.html", "one"), ("docs/page.html", "page"));
        var port = SidecarProcess.FreePort();
        using var sidecar = Start(
            ["--repo", bed.Repository.Url, "--root", bed.Root.Path, "--link", "current", "--period", "100ms",
             "--http-bind", $"127.0.0.1:{port}", "--http-metrics"]);

        await Eventually.HoldsAsync(() => bed.LinkTarget == $".worktrees/{first}", "the first sync publishes", sidecar);
        // --depth 1 (the default) reached libgit2 through the reflection the trimmer had to keep.
        Assert.Equal([first], File.ReadAllLines(bed.Root.Combine(".git", "shallow")));
        var second = await bed.Repository.CommitAsync("two", ("index.html", "two"));
        await Eventually.HoldsAsync(() => bed.LinkTarget == $".worktrees/{second}", "the loop publishes the next commit", sidecar);
        Assert.Equal("two", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "index.html")));
        Assert.Equal("page", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "docs", "page.html")));

        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        // The link is swapped before the sync that swapped it is recorded as done, so "/" names the new revision a moment later.
        await Eventually.HoldsAsync(async () => await client.GetStringAsync("/") == $"ok {second}\n", $"\"/\" names {second}", sidecar);
        var metrics = await client.GetStringAsync("/metrics");
        Assert.Contains("git_sync_count_total{status=\"success\"}", metrics);
        Assert.Contains("git_fetch_count_total", metrics);

        Assert.Equal(0, kill(sidecar.Id, SigTerm));
        Assert.True(sidecar.WaitForExit(TimeSpan.FromSeconds(20)), sidecar.Output);
        Assert.Equal(0, sidecar.ExitCode);
    }

    [Fact]
    public async Task KilledHardItRestartsAndCompletesTheSync()
    {
        var files = Enumerable.Range(0, 200).Select(i => ($"pages/{i % 10}/page{i}.html", (string?)$"page {i}")).ToArray();
        await bed.Repository.CommitAsync("seed", files);
        var next = await bed.Repository.CommitAsync("next", ("pages/0/page0.html", "changed"));
        string[] arguments = ["--repo", bed.Repository.Url, "--root", bed.Root.Path, "--link", "current", "--period", "10ms"];
        using (var killed = Start(arguments))
        {
            await Task.Delay(300);
            killed.KillHard();
        }

        using var sidecar = Start([.. arguments, "--one-time"]);
        Assert.True(sidecar.WaitForExit(TimeSpan.FromSeconds(60)), sidecar.Output);
        Assert.True(sidecar.ExitCode == 0, sidecar.Output);
        Assert.Equal($".worktrees/{next}", bed.LinkTarget);
        Assert.Equal("changed", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "pages", "0", "page0.html")));
        // The site's 200 files, beside the snapshot's ".git" file that makes it a worktree.
        Assert.Equal(200, Directory.GetFiles(bed.LinkPath, "*", SearchOption.AllDirectories).Count(f => Path.GetFileName(f) != ".git"));
        Assert.True(File.Exists(Path.Combine(bed.LinkPath, ".git")));
    }

    [Fact]
    public async Task ABadFlagIsRefusedWithTheFix()
    {
        using var sidecar = Start(["--repo", bed.Repository.Url, "--root", bed.Root.Path, "--depth", "-3"]);
        Assert.True(sidecar.WaitForExit(TimeSpan.FromSeconds(20)), sidecar.Output);
        Assert.NotEqual(0, sidecar.ExitCode);
        Assert.Contains("--depth", sidecar.Output);
    }

    [Fact]
    public async Task ItVerifiesSshAndOpenPgpSignaturesWithoutGpgOrSshKeygen()
    {
        // The signed objects are read through libgit2 and checked by BouncyCastle and the platform's crypto, compiled ahead of time.
        using var kit = new SigningKit();
        string[] sshKeys = [await kit.SshKeyAsync("ed25519", "ed25519"), await kit.SshKeyAsync("ecdsa", "ecdsa"), await kit.SshKeyAsync("rsa", "rsa")];
        var allowed = kit.AllowedSigners("allowed_signers", [.. sshKeys.Select(k => $"{Path.GetFileName(k)}@example.com namespaces=\"git\" {SigningKit.PublicKey(k)}")]);
        string[] openPgpKeys = [await kit.OpenPgpKeyAsync("rsa2048", "rsa@example.com"), await kit.OpenPgpKeyAsync("ed25519", "eddsa@example.com")];
        foreach (var key in openPgpKeys)
        {
            await kit.TrustOpenPgpKeyAsync(key);
        }
        var repository = await kit.NewRepositoryAsync("signed");
        var good = new List<string>();
        foreach (var key in sshKeys)
        {
            good.Add(await kit.CommitAsync(repository, "ssh", sshKey: key));
        }
        foreach (var key in openPgpKeys)
        {
            good.Add(await kit.CommitAsync(repository, "openpgp", openPgpKey: key));
        }
        var unsigned = await kit.CommitAsync(repository, "unsigned");

        SidecarProcess Sync(string revision)
        {
            var sidecar = Start(["--repo", repository, "--root", bed.Root.Combine(revision), "--link", "current", "--ref", revision, "--one-time",
                "--verify-signatures=enforce", "--allowed-signers-file", allowed, "--openpgp-keys", kit.OpenPgpKeysFolder]);
            Assert.True(sidecar.WaitForExit(TimeSpan.FromSeconds(60)), sidecar.Output);
            return sidecar;
        }
        foreach (var revision in good)
        {
            using var sidecar = Sync(revision);
            Assert.True(sidecar.ExitCode == 0, sidecar.Output);
            Assert.Contains($"Signature of commit {revision} is good", sidecar.Output);
        }
        using var refused = Sync(unsigned);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains($"commit {unsigned} signature is unsigned", refused.Output);
        Assert.False(File.Exists(bed.Root.Combine(unsigned, "current")));
    }

    private SidecarProcess Start(IEnumerable<string> arguments) => SidecarProcess.Start(arguments, binary: build.Binary);

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}

/// <summary>Publishes Sidecar.GitSync once for <see cref="NativeAotTests"/>, as its container image is built.</summary>
public sealed class NativeAotBuild() : AotPublish("Sidecar.GitSync");
