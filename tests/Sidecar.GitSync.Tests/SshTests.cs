using LibGit2Sharp;
using Microsoft.Extensions.DependencyInjection;
using Sidecar.DemoOrigin;
using Sidecar.Tests;
using Sidecar.GitSync.CommandLine;
using Sidecar.GitSync.Git;
using Sidecar.GitSync.Sync;

namespace Sidecar.GitSync.Tests;

/// <summary>test_e2e.sh's SSH auth cases, against a real sshd on loopback: keys, known_hosts, depth, and the checks at start.</summary>
[Trait("Category", "External")]
public sealed class SshTests : IAsyncLifetime
{
    private SshServer server = null!;
    private OriginRepository origin = null!;
    private readonly TempFolder root = new("sidecar-root");

    public async Task InitializeAsync()
    {
        server = await SshServer.StartAsync();
        origin = await server.CreateRepositoryAsync("site");
    }

    public async Task DisposeAsync()
    {
        await server.DisposeAsync();
        root.Dispose();
    }

    private string LinkPath => root.Combine("current");

    private GitSyncOptions Options(Action<GitSyncOptions>? configure = null)
    {
        var options = new GitSyncOptions { Repo = origin.Url, Root = root.Path, Link = "current", OneTime = true, SshKnownHostsFile = server.KnownHosts };
        options.SshKeyFiles.Add(server.ClientKey);
        configure?.Invoke(options);
        Assert.Empty(GitSyncCommandLine.Validate(options));
        return options;
    }

    private static async Task<SyncResult> SyncOnceAsync(GitSyncOptions options)
    {
        await using var app = GitSyncApp.Build(options);
        return await app.Services.GetRequiredService<GitSynchronizer>().SyncAsync(CancellationToken.None);
    }

    [Fact]
    public async Task SyncsOverSshWithAKeyAndKnownHosts()
    {
        var first = await origin.CommitAsync("one", ("index.html", "one"));
        var options = Options();

        var result = await SyncOnceAsync(options);

        Assert.True(result.Outcome == SyncOutcome.Success, result.Error + server.Log);
        Assert.Equal(first, result.Revision);
        Assert.Equal("one", await File.ReadAllTextAsync(Path.Combine(LinkPath, "index.html")));

        // Nothing new: the remote is asked over ssh, and nothing is fetched.
        Assert.Equal(SyncOutcome.Noop, (await SyncOnceAsync(options)).Outcome);

        var second = await origin.CommitAsync("two", ("index.html", "two"));
        var next = await SyncOnceAsync(options);
        Assert.Equal(SyncOutcome.Success, next.Outcome);
        Assert.Equal(second, next.Revision);
        Assert.Equal("two", await File.ReadAllTextAsync(Path.Combine(LinkPath, "index.html")));
    }

    [Fact]
    public async Task ASubmoduleWithARelativeUrlIsFetchedOverSshWithTheSameKeyAndKnownHosts()
    {
        var lib = await server.CreateRepositoryAsync("lib");
        var libSha = await lib.CommitAsync("lib", ("lib.js", "lib over ssh"));
        var site = await SubmoduleTests.CommitWithGitlinksAsync(origin, "site", [("vendor/lib", "lib", "../lib.git", libSha)], ("index.html", "home"));

        var result = await SyncOnceAsync(Options());

        Assert.True(result.Outcome == SyncOutcome.Success, result.Error + server.Log);
        Assert.Equal(site, result.Revision);
        Assert.Equal("lib over ssh", await File.ReadAllTextAsync(Path.Combine(LinkPath, "vendor", "lib", "lib.js")));
        using var store = new Repository(root.Combine(".git", "modules", "lib"));
        Assert.Equal(lib.Url, store.Network.Remotes["origin"].Url);
        Assert.Equal(root.Combine(".git", SshTransport.ScriptName), store.Config.Get<string>("core.sshCommand").Value);
    }

    [Fact]
    public async Task ASubmoduleOverSshIsFetchedAtTheDepth()
    {
        var lib = await server.CreateRepositoryAsync("lib");
        await lib.CommitAsync("lib", ("lib.js", "1"));
        var libSha = await lib.CommitAsync("lib", ("lib.js", "2"));
        await SubmoduleTests.CommitWithGitlinksAsync(origin, "site", [("vendor/lib", "lib", "../lib.git", libSha)], ("index.html", "home"));

        var result = await SyncOnceAsync(Options(o => o.Depth = 1));

        Assert.True(result.Outcome == SyncOutcome.Success, result.Error + server.Log);
        var store = root.Combine(".git", "modules", "lib");
        Assert.Equal(libSha, (await File.ReadAllTextAsync(Path.Combine(store, "shallow"))).Trim());
        Assert.Equal("1", await GitCli.RunAsync(root.Path, "--git-dir=" + store, "rev-list", "--count", libSha));
    }

    [Fact]
    public async Task ASubmoduleOverSshWhoseHostKeyIsUnknownFailsWithSshsWordsAndTheOldRevisionStays()
    {
        var first = await origin.CommitAsync("one", ("index.html", "one"));
        Assert.Equal(first, (await SyncOnceAsync(Options())).Revision);
        var lib = await server.CreateRepositoryAsync("lib");
        var libSha = await lib.CommitAsync("lib", ("lib.js", "lib"));
        // An absolute URL to another host name: the known_hosts file has no key for "localhost".
        var url = lib.Url.Replace("@127.0.0.1:", "@localhost:", StringComparison.Ordinal);
        await SubmoduleTests.CommitWithGitlinksAsync(origin, "site", [("lib", "lib", url, libSha)]);

        var result = await SyncOnceAsync(Options());

        Assert.Equal(SyncOutcome.Error, result.Outcome);
        Assert.Contains("submodule 'lib' at 'lib'", result.Error);
        Assert.Contains("Host key verification failed", result.Error);
        Assert.Equal("one", await File.ReadAllTextAsync(Path.Combine(LinkPath, "index.html")));
    }

    [Fact]
    public async Task DepthOneOverSshFetchesOnlyTheCommit()
    {
        await origin.CommitAsync("one", ("a.txt", "1"));
        await origin.CommitAsync("two", ("a.txt", "2"));
        var third = await origin.CommitAsync("three", ("a.txt", "3"));

        var result = await SyncOnceAsync(Options(o => o.Depth = 1));

        Assert.True(result.Outcome == SyncOutcome.Success, result.Error + server.Log);
        Assert.Equal(third, await GitCli.RunAsync(LinkPath, "log", "--format=%H"));
        Assert.Equal(third, (await File.ReadAllTextAsync(root.Combine(".git", "shallow"))).Trim());
        await GitCli.RunAsync(root.Path, "--git-dir=" + root.Combine(".git"), "fsck", "--no-progress");
    }

    [Fact]
    public async Task OverSshANewCommitAtDepthOneAndThenDepthZeroWork()
    {
        var first = await origin.CommitAsync("one", ("a.txt", "1"));
        var second = await origin.CommitAsync("two", ("a.txt", "2"));
        await SyncOnceAsync(Options(o => o.Depth = 1));
        var third = await origin.CommitAsync("three", ("a.txt", "3"));

        // The store is shallow now, so libgit2 also sends "shallow" lines: the repeat to drop is longer.
        var deeper = await SyncOnceAsync(Options(o => o.Depth = 1));
        Assert.True(deeper.Outcome == SyncOutcome.Success, deeper.Error + server.Log);
        Assert.Equal(third, await GitCli.RunAsync(LinkPath, "log", "--format=%H"));

        var fourth = await origin.CommitAsync("four", ("a.txt", "4"));
        var whole = await SyncOnceAsync(Options(o => o.Depth = 0));
        Assert.True(whole.Outcome == SyncOutcome.Success, whole.Error + server.Log);
        Assert.Equal($"{fourth}\n{third}\n{second}\n{first}", await GitCli.RunAsync(LinkPath, "log", "--format=%H"));
        Assert.False(File.Exists(root.Combine(".git", "shallow")));
    }

    [Fact]
    public async Task WithoutTheNegotiationFilterLibgit2CannotFetchShallowOverSsh()
    {
        await origin.CommitAsync("one", ("a.txt", "1"));
        await origin.CommitAsync("two", ("a.txt", "2"));
        await SyncOnceAsync(Options(o => o.Depth = 0));
        var gitDirectory = root.Combine(".git");
        var script = Path.Combine(gitDirectory, SshTransport.ScriptName);
        var plain = (await File.ReadAllTextAsync(script)).Replace(SshNegotiationFilter.Command + " | ", "", StringComparison.Ordinal);
        Assert.DoesNotContain(SshNegotiationFilter.Argument, plain);
        await File.WriteAllTextAsync(script, plain);

        // Why the filter is there: libgit2 1.8 repeats its wants after the shallow exchange, which a stateful (ssh)
        // upload-pack refuses. When this fails, LibGit2Sharp ships a libgit2 with the fix (1.9): drop SshNegotiationFilter.
        using var store = new LibGit2Sharp.Repository(gitDirectory);
        var shallow = Assert.ThrowsAny<LibGit2Sharp.LibGit2SharpException>(() =>
            ShallowFetch.Fetch(store, "origin", ["+refs/heads/main:refs/sidecar/shallow-probe"], new LibGit2Sharp.FetchOptions(), depth: 1));
        Assert.Contains("expected SHA1 list", SshTransport.Messages(Path.Combine(gitDirectory, SshTransport.MessagesName)) + shallow.Message);
    }

    [Fact]
    public async Task AWrongHostKeyFailsTheSyncAndKeepsTheLastGoodRevision()
    {
        var good = await origin.CommitAsync("one", ("index.html", "one"));
        Assert.Equal(good, (await SyncOnceAsync(Options())).Revision);
        await origin.CommitAsync("two", ("index.html", "two"));

        var result = await SyncOnceAsync(Options(o => o.SshKnownHostsFile = server.WrongKnownHosts));

        Assert.Equal(SyncOutcome.Error, result.Outcome);
        Assert.Contains("Host key verification failed", result.Error);
        Assert.Contains($"--ssh-known-hosts-file '{server.WrongKnownHosts}'", result.Error);
        Assert.Equal(good, result.Revision);
        Assert.Equal("one", await File.ReadAllTextAsync(Path.Combine(LinkPath, "index.html")));
        Assert.Equal([good], Directory.GetDirectories(root.Combine(".worktrees")).Select(Path.GetFileName));
    }

    [Fact]
    public async Task AKeyTheServerDoesNotKnowIsReportedWithTheKeyFile()
    {
        await origin.CommitAsync("one", ("index.html", "one"));

        var result = await SyncOnceAsync(Options(o => { o.SshKeyFiles.Clear(); o.SshKeyFiles.Add(server.StrangerKey); }));

        Assert.Equal(SyncOutcome.Error, result.Outcome);
        Assert.Contains("Permission denied", result.Error);
        Assert.Contains($"the server refused the key(s) '{server.StrangerKey}'", result.Error);
        Assert.False(File.Exists(LinkPath));
    }

    [Fact]
    public async Task APasswordInTheUrlIsNotShownInErrors()
    {
        await origin.CommitAsync("one", ("index.html", "one"));
        var url = origin.Url.Replace($"ssh://{Environment.UserName}@", $"ssh://{Environment.UserName}:hunter2@", StringComparison.Ordinal);

        var result = await SyncOnceAsync(Options(o => { o.Repo = url; o.SshKnownHostsFile = server.WrongKnownHosts; }));

        Assert.Equal(SyncOutcome.Error, result.Outcome);
        Assert.Contains($"ssh to 'ssh://{Environment.UserName}@127.0.0.1:{server.Port}/", result.Error);
        Assert.DoesNotContain("hunter2", result.Error);
    }

    [Fact]
    public async Task AKeyOthersCanReadIsReportedWithTheModeToGive()
    {
        await origin.CommitAsync("one", ("index.html", "one"));
        var readable = root.Combine("..", $"key-{Guid.NewGuid():N}");
        try
        {
            File.Copy(server.ClientKey, readable);
            File.SetUnixFileMode(readable, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

            var result = await SyncOnceAsync(Options(o => { o.SshKeyFiles.Clear(); o.SshKeyFiles.Add(readable); }));

            Assert.Equal(SyncOutcome.Error, result.Outcome);
            Assert.Contains("bad permissions", result.Error);
            Assert.Contains("make --ssh-key-file mode 0400 or 0600", result.Error);
        }
        finally
        {
            File.Delete(readable);
        }
    }

    [Fact]
    public async Task WithoutKnownHostsCheckingNoKnownHostsFileIsNeeded()
    {
        var sha = await origin.CommitAsync("one", ("index.html", "one"));

        var result = await SyncOnceAsync(Options(o => { o.SshKnownHosts = false; o.SshKnownHostsFile = root.Combine("no-such-known_hosts"); }));

        Assert.True(result.Outcome == SyncOutcome.Success, result.Error);
        Assert.Equal(sha, result.Revision);
    }

    [Fact]
    public async Task ChangedFlagsTakeEffectAtTheNextStart()
    {
        var first = await origin.CommitAsync("one", ("index.html", "one"));
        Assert.Equal(first, (await SyncOnceAsync(Options())).Revision);
        await origin.CommitAsync("two", ("index.html", "two"));

        // The same root, started again with another key: the script in .git follows the new flags.
        var result = await SyncOnceAsync(Options(o => { o.SshKeyFiles.Clear(); o.SshKeyFiles.Add(server.StrangerKey); }));

        Assert.Equal(SyncOutcome.Error, result.Outcome);
        Assert.Contains(server.StrangerKey, await File.ReadAllTextAsync(root.Combine(".git", SshTransport.ScriptName)));
    }

    [Fact]
    public void AMissingKeyFileIsRefusedAtStart()
    {
        var missing = root.Combine("no-such-key");

        var result = GitSyncCommandLine.Parse(
            ["--repo", origin.Url, "--root", root.Path, "--ssh-key-file", missing, "--ssh-known-hosts-file", server.KnownHosts], _ => null);

        Assert.Contains(result.Errors, e => e.StartsWith($"--ssh-key-file '{missing}' does not exist: SSH repos need the private key there", StringComparison.Ordinal));
    }

    [Fact]
    public void TheDefaultKeyFileIsNamedWhenMissing()
    {
        var result = GitSyncCommandLine.Parse(
            ["--repo", origin.Url, "--root", root.Path, "--ssh-known-hosts-file", server.KnownHosts], _ => null);

        Assert.Contains(result.Errors, e => e.StartsWith($"--ssh-key-file (the default) '{SshTransport.DefaultKeyFile}' does not exist", StringComparison.Ordinal));
    }

    [Fact]
    public void AMissingKnownHostsFileIsRefusedAtStartUnlessCheckingIsOff()
    {
        var missing = root.Combine("no-such-known_hosts");
        string[] args = ["--repo", origin.Url, "--root", root.Path, "--ssh-key-file", server.ClientKey, "--ssh-known-hosts-file", missing];

        var refused = GitSyncCommandLine.Parse(args, _ => null);
        var accepted = GitSyncCommandLine.Parse([.. args, "--ssh-known-hosts=false"], _ => null);

        Assert.Contains(refused.Errors, e => e.Contains($"--ssh-known-hosts-file '{missing}' does not exist", StringComparison.Ordinal)
            && e.Contains("--ssh-known-hosts=false", StringComparison.Ordinal));
        Assert.Empty(accepted.Errors);
    }

    [Fact]
    public void NoSshClientOrShellIsRefusedAtStart()
    {
        using var emptyPath = new TempFolder("sidecar-path");
        var options = Options();

        var errors = SshTransport.Validate(options, emptyPath.Path, shell: emptyPath.Combine("sh")).ToList();

        Assert.Contains(errors, e => e.StartsWith($"no 'ssh' client on PATH ({emptyPath.Path}): SSH repos need OpenSSH's ssh in the image, e.g. apt-get install openssh-client", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith($"{emptyPath.Combine("sh")} does not exist: SSH repos need a shell", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheProcessRefusesToStartWithoutAnSshClient()
    {
        using var emptyPath = new TempFolder("sidecar-path");

        var (exitCode, output) = await SidecarProcess.RunAsync(
            ["--repo", origin.Url, "--root", root.Path, "--ssh-key-file", server.ClientKey, "--ssh-known-hosts-file", server.KnownHosts, "--one-time"],
            new Dictionary<string, string> { ["PATH"] = emptyPath.Path });

        Assert.Equal(2, exitCode);
        Assert.Contains("error: no 'ssh' client on PATH", output);
    }

    [Fact]
    public async Task AnInheritedGitSshCommandIsExtendedWithTheFlags()
    {
        var sha = await origin.CommitAsync("one", ("index.html", "one"));
        // A user's own ssh command, which records its arguments; libgit2 must run it with the flags added.
        var wrapper = server.Folder.Combine("logging ssh");
        var arguments = server.Folder.Combine("arguments");
        await File.WriteAllTextAsync(wrapper, $"#!/bin/sh\necho \"$@\" >> {SshTransport.Quote(arguments)}\nexec ssh \"$@\"\n");
        File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var (exitCode, output) = await SidecarProcess.RunAsync(
            ["--repo", origin.Url, "--root", root.Path, "--link", "current", "--ssh-key-file", server.ClientKey, "--ssh-known-hosts-file", server.KnownHosts, "--one-time"],
            new Dictionary<string, string>
            {
                ["GIT_SSH_COMMAND"] = SshTransport.Quote(wrapper),
                // git ignores GIT_SSH when GIT_SSH_COMMAND is set; so does the sidecar.
                ["GIT_SSH"] = "/bin/false",
            });

        Assert.True(exitCode == 0, output);
        Assert.Equal(sha, Path.GetFileName(new FileInfo(LinkPath).LinkTarget));
        // The executable runs its own negotiation filter in the ssh script, so --depth=1 holds over ssh.
        Assert.True(File.Exists(root.Combine(".git", "shallow")), output);
        var recorded = await File.ReadAllTextAsync(arguments);
        Assert.Contains($"-i {server.ClientKey} -o StrictHostKeyChecking=yes -o UserKnownHostsFile={server.KnownHosts}", recorded);
    }

    [Fact]
    public void TheCommandQuotesPathsAndFollowsGitSync()
    {
        var options = new GitSyncOptions { Repo = "git@example.com:org/site.git", SshKnownHostsFile = "/etc/known hosts" };
        options.SshKeyFiles.AddRange(["/keys/it's", "/keys/b"]);

        Assert.Equal("ssh -i '/keys/it'\\''s' -i '/keys/b' -o StrictHostKeyChecking=yes -o 'UserKnownHostsFile=/etc/known hosts' -o BatchMode=yes",
            SshTransport.Command(options));
        options.SshKnownHosts = false;
        Assert.EndsWith("-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes", SshTransport.Command(options));
        Assert.Equal($"ssh -i '{SshTransport.DefaultKeyFile}' -o StrictHostKeyChecking=yes -o 'UserKnownHostsFile=/etc/git-secret/known_hosts' -o BatchMode=yes",
            SshTransport.Command(new GitSyncOptions { Repo = "git@example.com:org/site.git" }));
    }

    [Fact]
    public void AScriptThatCannotBeStartedIsExplained()
    {
        var explained = SshTransport.Explain(new GitSyncOptions(), "ssh://git@example.com/site.git", "", "cannot run /r/.git/sidecar-ssh: Permission denied");

        Assert.Equal("ssh to 'ssh://git@example.com/site.git' failed (cannot run /r/.git/sidecar-ssh: Permission denied): "
            + "the ssh script sidecar-ssh in ROOT/.git could not be started: --root must not be on a noexec mount, and /bin/sh must exist", explained);
    }

    [Theory]
    [InlineData("ssh://git@example.com:2222/org/site.git", true)]
    [InlineData("git@github.com:org/site.git", true)]
    [InlineData("example.com:org/site.git", true)]
    [InlineData("git+ssh://example.com/org/site.git", true)]
    [InlineData("https://me@example.com/org/site.git", false)]
    [InlineData("file:///srv/site.git", false)]
    [InlineData("/srv/site.git", false)]
    [InlineData("./a:b/site.git", false)]
    [InlineData("C:\\repos\\site", false)]
    public void SshUrlsAreRecognisedAsGitReadsThem(string repo, bool ssh) =>
        Assert.Equal(ssh, SshTransport.IsSsh(repo));

    [Fact]
    public void KeyFilesMayBeRepeatedOrColonSeparatedInTheVariable()
    {
        var fromFlags = GitSyncCommandLine.Parse(["--ssh-key-file=/a", "--ssh-key-file", "/b"], _ => null).Options;
        var fromVariable = GitSyncCommandLine.Parse([], name => name == "GITSYNC_SSH_KEY_FILE" ? "/a:/b" : null).Options;

        Assert.Equal(["/a", "/b"], fromFlags.SshKeyFiles);
        Assert.Equal(["/a", "/b"], fromVariable.SshKeyFiles);
    }
}
