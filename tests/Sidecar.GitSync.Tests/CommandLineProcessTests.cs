using System.Net;
using Sidecar.GitSync.CommandLine;

namespace Sidecar.GitSync.Tests;

/// <summary>The executable as a user runs it: flags, environment, exit codes and the readiness endpoint.</summary>
[Trait("Category", "Process")]
public sealed class CommandLineProcessTests : IAsyncLifetime
{
    private SyncTestBed bed = null!;

    public async Task InitializeAsync() => bed = await SyncTestBed.StartAsync();

    public async Task DisposeAsync() => await bed.DisposeAsync();

    [Fact]
    public async Task OneTimePublishesTheDefaultLinkAndExitsZero()
    {
        var sha = await bed.Repository.CommitAsync("first", ("index.html", "hello"));

        var (exitCode, output) = await SidecarProcess.RunAsync(
            ["--repo", bed.Repository.Url, "--one-time"],
            new Dictionary<string, string> { ["GITSYNC_ROOT"] = bed.Root.Path });

        Assert.True(exitCode == 0, output);
        // The link defaults to the last part of the repo URL: .../site.git gives "site".
        Assert.Equal($".worktrees/{sha}", new FileInfo(bed.Root.Combine("site")).LinkTarget);
        Assert.Equal("hello", await File.ReadAllTextAsync(bed.Root.Combine("site", "index.html")));
    }

    [Fact]
    public async Task OneTimeExitsOneWhenTheSyncFails()
    {
        await bed.Repository.CommitAsync("first", ("index.html", "hello"));

        var (exitCode, output) = await SidecarProcess.RunAsync(
            ["--repo", bed.Repository.Url, "--root", bed.Root.Path, "--ref", "missing", "--one-time"]);

        Assert.Equal(1, exitCode);
        Assert.Contains("--ref 'missing' was not found on the remote", output);
    }

    [Fact]
    public async Task ABadFlagExitsTwoAndNamesTheFix()
    {
        var (exitCode, output) = await SidecarProcess.RunAsync(["--repo", bed.Repository.Url, "--root", bed.Root.Path, "--period", "often"]);

        Assert.Equal(2, exitCode);
        Assert.Contains("--period 'often' is not a duration: write it like 10s", output);
        Assert.Empty(Directory.GetFileSystemEntries(bed.Root.Path));
    }

    [Fact]
    public async Task FlagsDoneDifferentlyAreAcceptedWithOneLineEachAndThePasswordIsNotLogged()
    {
        var sha = await bed.Repository.CommitAsync("first", ("index.html", "hello"));
        bed.Origin.RequiredCredentials = ("me", "hunter2");

        var (exitCode, output) = await SidecarProcess.RunAsync(
            ["--repo", bed.Repository.Url, "--root", bed.Root.Path, "--one-time", "--git=/usr/local/bin/git", "--http-pprof",
             $"--http-bind=127.0.0.1:{SidecarProcess.FreePort()}", "--filter=blob:none", "--add-user", "--username=me", "--password=hunter2",
             "--git-config=protocol.file.allow:always", "-v=6"]);

        Assert.True(exitCode == 0, output);
        Assert.Equal($".worktrees/{sha}", new FileInfo(bed.Root.Combine("site")).LinkTarget);
        Assert.Single(output.Split('\n'), l => l.Contains("--git=/usr/local/bin/git is not run"));
        Assert.Single(output.Split('\n'), l => l.Contains("--http-pprof serves nothing"));
        Assert.Single(output.Split('\n'), l => l.Contains("--filter=blob:none: libgit2 cannot fetch a partial clone"));
        Assert.Single(output.Split('\n'), l => l.Contains("--password shows the password to anyone who can list processes"));
        Assert.DoesNotContain("hunter2", output);
    }

    [Fact]
    public async Task AStoreOwnedByAnotherUserIsUsedAsGitSyncDoesUnlessSafeDirectoryLeavesItOut()
    {
        // Faking another owner takes chown, so this runs where the suite runs as root (its containers do).
        if (Environment.UserName != "root")
        {
            return;
        }
        var first = await bed.Repository.CommitAsync("first", ("index.html", "one"));
        string[] sync = ["--repo", bed.Repository.Url, "--root", bed.Root.Path, "--link", "current", "--one-time"];
        Assert.Equal(0, (await SidecarProcess.RunAsync(sync)).ExitCode);
        using (var chown = System.Diagnostics.Process.Start("chown", ["-R", "65534:65534", bed.Root.Combine(".git")])!)
        {
            await chown.WaitForExitAsync();
            Assert.Equal(0, chown.ExitCode);
        }
        var second = await bed.Repository.CommitAsync("second", ("index.html", "two"));

        var (refusedCode, refused) = await SidecarProcess.RunAsync([.. sync, "--git-config=safe.directory:/elsewhere"]);
        var (trustedCode, trusted) = await SidecarProcess.RunAsync(sync);

        Assert.Equal(1, refusedCode);
        Assert.Contains($"detected dubious ownership in repository at '{bed.Root.Combine(".git")}'", refused);
        Assert.Contains($"add the root to --git-config safe.directory, e.g. safe.directory:{bed.Root.Path}", refused);
        Assert.True(trustedCode == 0, trusted);
        Assert.DoesNotContain("creating it afresh", trusted);
        Assert.Equal($".worktrees/{second}", new FileInfo(bed.Root.Combine("current")).LinkTarget);
        Assert.NotEqual(first, second);
    }

    [Fact]
    public async Task VersionPrintsTheVersionAndExitsZero()
    {
        var (exitCode, output) = await SidecarProcess.RunAsync(["--version"]);

        Assert.Equal(0, exitCode);
        Assert.Equal(GitSyncCommandLine.Version, output.Trim());
    }

    [Fact]
    public void AddUserAppendsAnEntryOnlyForAnUnknownUid()
    {
        using var folder = new Sidecar.Tests.TempFolder("sidecar-passwd");
        var passwd = folder.Combine("passwd");
        File.WriteAllText(passwd, "root:x:0:0:root:/root:/bin/bash\n");

        Assert.Null(PasswdEntry.EnsureFor(0, 0, "/root", passwd));
        Assert.Null(PasswdEntry.EnsureFor(65533, 65533, "/tmp", passwd));
        Assert.Null(PasswdEntry.EnsureFor(65533, 65533, "/tmp", passwd));

        Assert.Equal(["root:x:0:0:root:/root:/bin/bash", "git-sync:x:65533:65533::/tmp:/sbin/nologin"], File.ReadAllLines(passwd));
        Assert.Contains($"--add-user could not add UID 7 to {folder.Combine("no", "passwd")}", PasswdEntry.EnsureFor(7, 7, "/", folder.Combine("no", "passwd")));
    }

    [Fact]
    public async Task HelpListsTheFlagsAndExitsZero()
    {
        var (exitCode, output) = await SidecarProcess.RunAsync(["--help"]);

        Assert.Equal(0, exitCode);
        Assert.Contains("--repo=URL", output);
        Assert.Contains("$GITSYNC_PERIOD", output);
    }

    [Fact]
    public async Task ReadinessIs503UntilTheFirstSyncThen200()
    {
        var port = SidecarProcess.FreePort();
        // The repository does not exist yet, so every sync fails until it does.
        var url = $"{bed.Origin.BaseUrl}/later.git";
        using var sidecar = SidecarProcess.Start(
            ["--repo", url, "--root", bed.Root.Path, "--period", "200ms", "--max-failures", "-1", "--http-bind", $"127.0.0.1:{port}"]);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        var status = await PollAsync(client, s => s == HttpStatusCode.ServiceUnavailable);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);

        var later = await bed.Origin.CreateRepositoryAsync("later");
        var sha = await later.CommitAsync("first", ("index.html", "ready"));

        status = await PollAsync(client, s => s == HttpStatusCode.OK);
        Assert.True(status == HttpStatusCode.OK, sidecar.Output);
        Assert.Equal($"ok {sha}\n", await client.GetStringAsync("/"));
    }

    private static async Task<HttpStatusCode?> PollAsync(HttpClient client, Func<HttpStatusCode, bool> until)
    {
        HttpStatusCode? last = null;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var response = await client.GetAsync("/");
                last = response.StatusCode;
                if (until(response.StatusCode))
                {
                    return last;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            await Task.Delay(100);
        }
        return last;
    }
}
