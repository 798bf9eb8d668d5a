using Sidecar.GitSync.CommandLine;

namespace Sidecar.GitSync.Tests;

/// <summary>
/// Every flag of kubernetes/git-sync v4.7.1 (its main.go, deprecated ones included) is accepted from the command line
/// and from its variables, so a Pod written for git-sync does not crash-loop; those done differently say so once.
/// </summary>
[Trait("Category", "Unit")]
public sealed class CommandLineV4FlagsTests
{
    // Each v4.7.1 flag with a value it takes; the list is git-sync's pflag declarations, in its order.
    public static TheoryData<string, string> V4Flags => new()
    {
        { "verbose", "2" }, { "repo", "https://example.com/org/site.git" }, { "ref", "main" }, { "depth", "1" }, { "filter", "blob:none" },
        { "submodules", "off" }, { "sparse-checkout-file", "/sparse" }, { "root", "/tmp/r" }, { "link", "link" }, { "error-file", "error.json" },
        { "init-period", "1s" }, { "period", "5s" }, { "sync-timeout", "60s" }, { "one-time", "true" }, { "sync-on-signal", "SIGHUP" },
        { "max-failures", "3" }, { "init-max-failures", "2" }, { "touch-file", "touch" }, { "add-user", "true" }, { "group-write", "true" },
        { "stale-worktree-timeout", "1m" }, { "exechook-command", "/bin/true" }, { "exechook-timeout", "10s" }, { "exechook-backoff", "2s" },
        { "webhook-url", "http://127.0.0.1:1/hook" }, { "webhook-method", "PUT" }, { "webhook-success-status", "204" },
        { "webhook-timeout", "2s" }, { "webhook-backoff", "4s" }, { "password-file", "/pw" }, { "username", "me" },
        { "credential", """{"url":"https://a.example","username":"a","password":"1"}""" }, { "ssh-key-file", "/key" },
        { "ssh-known-hosts", "false" }, { "ssh-known-hosts-file", "/kh" }, { "cookie-file", "true" }, { "askpass-url", "http://127.0.0.1:1/ask" },
        { "github-base-url", "https://ghe.example/api/v3/" }, { "git", "/usr/bin/git" }, { "git-config", "protocol.file.allow:always" },
        { "git-gc", "off" }, { "http-bind", ":8080" }, { "http-metrics", "true" }, { "http-pprof", "true" },
        // Deprecated in v4, still accepted by it.
        { "branch", "main" }, { "rev", "main" }, { "dest", "link" }, { "wait", "2.5" }, { "timeout", "30" }, { "max-sync-failures", "1" },
        { "sync-hook-command", "/bin/true" }, { "ssh", "true" }, { "change-permissions", "0" },
    };

    private static GitSyncCommandLineResult Parse(string[] args, Dictionary<string, string>? environment = null) =>
        GitSyncCommandLine.Parse(["--repo=https://example.com/org/site.git", "--root=/tmp/r", .. args],
            name => environment is not null && environment.TryGetValue(name, out var value) ? value : null);

    [Theory]
    [MemberData(nameof(V4Flags))]
    public void EveryV4FlagIsAccepted(string flag, string value)
    {
        // Some flags need their partner, as in git-sync.
        string[] partners = flag switch
        {
            "password-file" => ["--username=me"],
            "username" => ["--password-file=/pw"],
            "http-metrics" or "http-pprof" => ["--http-bind=:8080"],
            _ => [],
        };

        var result = Parse([$"--{flag}={value}", .. partners]);

        Assert.Empty(result.Errors);
    }

    [Theory]
    [MemberData(nameof(V4Flags))]
    public void EveryV4FlagIsReadFromItsVariable(string flag, string value)
    {
        var definition = GitSyncCommandLine.Flags.Single(f => f.Name == flag);
        if (definition.EnvironmentVariables.FirstOrDefault() is not { } variable)
        {
            // git-sync reads no variable for --ssh and --password (only $GITSYNC_PASSWORD, read directly).
            Assert.Contains(flag, new[] { "ssh", "password" });
            return;
        }
        var environment = new Dictionary<string, string> { [variable] = value, ["GITSYNC_USERNAME"] = "me", ["GITSYNC_PASSWORD_FILE"] = "/pw", ["GITSYNC_HTTP_BIND"] = ":1" };

        var result = Parse([], environment);

        Assert.Empty(result.Errors);
        Assert.StartsWith(definition.Deprecated ? "GIT_SYNC_" : "GITSYNC_", variable);
    }

    [Fact]
    public void VersionManAndV3VariablesAreRead()
    {
        Assert.True(GitSyncCommandLine.Parse(["--version"], _ => null).ShowVersion);
        Assert.True(GitSyncCommandLine.Parse(["--man"], _ => null).ShowManual);

        var result = GitSyncCommandLine.Parse([], name => name switch
        {
            "GIT_SYNC_REPO" => "https://example.com/v3.git",
            "GIT_SYNC_ROOT" => "/tmp/v3",
            "GIT_SYNC_BRANCH" => "release",
            "GIT_SYNC_WAIT" => "0.5",
            "GITSYNC_PERIOD" => "1m",
            "GIT_SSH_KEY_FILE" => "/old/key",
            _ => null,
        });

        Assert.Empty(result.Errors);
        Assert.Equal("https://example.com/v3.git", result.Options.Repo);
        Assert.Equal("release", result.Options.Ref);
        // As git-sync: a deprecated flag that is set wins over its replacement.
        Assert.Equal(TimeSpan.FromMilliseconds(500), result.Options.Period);
        Assert.Equal(["/old/key"], result.Options.SshKeyFiles);
        Assert.Contains("setting --ref from deprecated --branch: give --ref instead", result.Options.StartupNotices);
        Assert.Contains("setting --period from deprecated --wait: give --period instead", result.Options.StartupNotices);
    }

    [Fact]
    public void ThePasswordFlagIsAcceptedWinsOverTheVariableAndItsWarningHidesTheValue()
    {
        var result = Parse(["--username=me", "--password=hunter2"], new() { ["GITSYNC_PASSWORD"] = "from-env" });

        Assert.Empty(result.Errors);
        Assert.Equal("hunter2", result.Options.Password);
        var warning = Assert.Single(result.Options.StartupNotices);
        Assert.Contains("--password shows the password to anyone who can list processes: set $GITSYNC_PASSWORD or give --password-file instead", warning);
        Assert.DoesNotContain("hunter2", warning);
    }

    [Theory]
    [InlineData("--git=/bin/git-wrapper", "--git=/bin/git-wrapper is not run: this sidecar does git in-process with libgit2")]
    [InlineData("--http-pprof", "--http-pprof serves nothing: Go's pprof does not exist in this .NET sidecar; profile it with dotnet-counters")]
    [InlineData("--filter=blob:none", "--filter=blob:none: libgit2 cannot fetch a partial clone")]
    [InlineData("--git-config=core.sshCommand:ssh -v", "--git-config core.sshCommand is not used, as in git-sync")]
    [InlineData("--cookie-file", "--cookie-file: the cookies of /etc/git-secret/cookie_file are not sent")]
    public void AFlagDoneDifferentlyHereSaysWhatIsDoneInsteadInOneLine(string flag, string expected)
    {
        var result = Parse([flag, "--http-bind=:8080"]);

        Assert.Empty(result.Errors);
        var notice = Assert.Single(result.Options.StartupNotices);
        Assert.Contains(expected, notice);
        Assert.DoesNotContain('\n', notice);
    }

    [Fact]
    public void AFilterWithAllHistoryFetchesDepthOneWhichReceivesWhatAPartialCloneDoes()
    {
        var all = Parse(["--filter=blob:none", "--depth=0"]).Options;
        var deep = Parse(["--filter=tree:0", "--depth=5"]).Options;

        Assert.Equal(1, all.Depth);
        Assert.Contains("--depth=0 becomes --depth=1, which receives the same bytes as git's partial clone", Assert.Single(all.StartupNotices));
        Assert.Equal(5, deep.Depth);
    }

    [Theory]
    [InlineData("--change-permissions=0775", "--change-permissions is no longer supported (as in git-sync v4)")]
    [InlineData("--wait=soon", "--wait 'soon' is not a number of seconds")]
    [InlineData("--askpass-url=file:///x", "--askpass-url 'file:///x' is not an http(s) URL")]
    [InlineData("--http-pprof", "--http-pprof needs --http-bind")]
    [InlineData("--git-config=abc123", "--git-config could not be read (unexpected end of key")]
    [InlineData("--git-config=nodot:v", "--git-config key 'nodot' is not a git config key")]
    [InlineData("--github-app-client-id=Iv1", "GitHub App auth needs --github-app-installation-id")]
    [InlineData("--github-app-installation-id=7", "--github-app-installation-id needs --github-app-client-id or --github-app-application-id")]
    public void BadValuesOfTheV4FlagsAreNamedWithTheirFix(string flag, string expected)
    {
        var result = Parse([flag]);

        Assert.Contains(result.Errors, e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void GitHubAppFlagsFollowGitSyncsRules()
    {
        var both = Parse(["--github-app-client-id=Iv1", "--github-app-application-id=1", "--github-app-installation-id=2", "--github-app-private-key-file=/k"]);
        var ok = Parse(["--github-app-application-id=1", "--github-app-installation-id=2"], new() { ["GITSYNC_GITHUB_APP_PRIVATE_KEY"] = "pem" });

        Assert.Contains(both.Errors, e => e.Contains("--github-app-application-id and --github-app-client-id are both set"));
        Assert.Empty(ok.Errors);
        Assert.True(ok.Options.UsesGitHubApp);
        Assert.Equal("pem", ok.Options.GitHubAppPrivateKey);
    }
}
