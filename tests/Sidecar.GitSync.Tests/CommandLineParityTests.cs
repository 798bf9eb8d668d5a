using Sidecar.GitSync.CommandLine;
using Sidecar.GitSync.Git;

namespace Sidecar.GitSync.Tests;

/// <summary>The flags added for git-sync v4.7 parity: spellings, defaults, and every refusal naming its fix.</summary>
[Trait("Category", "Unit")]
public sealed class CommandLineParityTests
{
    private static GitSyncCommandLineResult Parse(string[] args, Dictionary<string, string>? environment = null) =>
        GitSyncCommandLine.Parse(["--repo=https://example.com/org/site.git", "--root=/tmp/r", .. args],
            name => environment is not null && environment.TryGetValue(name, out var value) ? value : null);

    [Fact]
    public void DefaultsFollowGitSync()
    {
        var options = Parse([]).Options;

        Assert.Equal(TimeSpan.FromSeconds(120), options.SyncTimeout);
        Assert.Equal(0, options.MaxFailures);
        Assert.Null(options.InitPeriod);
        Assert.Null(options.InitMaxFailures);
        Assert.Equal(TimeSpan.Zero, options.StaleWorktreeTimeout);
        Assert.Equal("POST", options.WebhookMethod);
        Assert.Equal(200, options.WebhookSuccessStatus);
        Assert.Equal(TimeSpan.FromSeconds(1), options.WebhookTimeout);
        Assert.Equal(TimeSpan.FromSeconds(3), options.WebhookBackoff);
        Assert.Equal(TimeSpan.FromSeconds(30), options.ExechookTimeout);
        Assert.Equal(TimeSpan.FromSeconds(3), options.ExechookBackoff);
        Assert.False(options.PublishGitFiles);
        Assert.Equal(GitGcMode.Always, options.GitGc);
    }

    [Fact]
    public void ShortVerbosityNegativeCountsAndTheEnvironmentPasswordAreRead()
    {
        var result = Parse(["-v", "3", "--max-failures=-1", "--init-max-failures", "5", "--init-period=50ms", "--sync-on-signal=SIGHUP"],
            new() { ["GITSYNC_USERNAME"] = "me", ["GITSYNC_PASSWORD"] = "pw", ["GITSYNC_TOUCH_FILE"] = "touch" });

        Assert.Empty(result.Errors);
        Assert.Equal(3, result.Options.Verbosity);
        Assert.Equal(-1, result.Options.MaxFailures);
        Assert.Equal(5, result.Options.InitMaxFailures);
        Assert.Equal(TimeSpan.FromMilliseconds(50), result.Options.InitPeriod);
        Assert.Equal("pw", result.Options.Password);
        Assert.Equal("/tmp/r/touch", result.Options.UnderRoot(result.Options.TouchFile));
    }

    [Fact]
    public void CredentialsMayBeRepeatedOrGivenAsAList()
    {
        var result = Parse([
            "--credential", """{"url":"https://a.example","username":"a","password":"1"}""",
            "--credential", """[{"url":"https://b.example","username":"b","password-file":"/p"}]""",
        ]);

        Assert.Empty(result.Errors);
        Assert.Equal(["https://a.example", "https://b.example"], result.Options.Credentials.Select(c => c.Url));
        Assert.Equal("/p", result.Options.Credentials[1].PasswordFile);
    }

    [Theory]
    [InlineData("--password=x", "a password is set but --username is not")]
    [InlineData("--credential={nope", "--credential is not valid JSON")]
    [InlineData("--credential={\"url\":\"https://a\"}", "exactly one of \"password\" or \"password-file\"")]
    [InlineData("--sync-timeout=1ms", "--sync-timeout 1ms is too short: give at least 10ms")]
    [InlineData("--init-period=1ms", "--init-period 1ms is too short")]
    [InlineData("--max-failures=lots", "--max-failures 'lots' is not a whole number")]
    [InlineData("--webhook-url=ftp://x", "--webhook-url 'ftp://x' is not an http(s) URL")]
    [InlineData("--webhook-success-status=42", "--webhook-success-status 42 is not an HTTP status")]
    [InlineData("--sync-on-signal=SIGNOPE", "--sync-on-signal 'SIGNOPE' is not a signal")]
    [InlineData("--http-metrics", "--http-metrics needs --http-bind")]
    [InlineData("--password-file=/p", "a password is set but --username is not")]
    [InlineData("--submodules=some", "--submodules 'some' is not a mode")]
    [InlineData("-v=-1", "-v -1 is negative")]
    [InlineData("--git-gc=sometimes", "--git-gc 'sometimes' is not a mode: give auto, always, aggressive or off")]
    public void BadValuesAreNamedWithTheirFix(string flag, string expected)
    {
        var result = Parse([flag]);

        Assert.Contains(result.Errors, e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void ASparseCheckoutFileIsAcceptedFromTheFlagOrItsVariable()
    {
        var fromFlag = Parse(["--sparse-checkout-file=/etc/sparse"]);
        var fromVariable = Parse([], new() { ["GITSYNC_SPARSE_CHECKOUT_FILE"] = "/etc/other" });

        Assert.Empty(fromFlag.Errors);
        Assert.Equal("/etc/sparse", fromFlag.Options.SparseCheckoutFile);
        Assert.Empty(fromVariable.Errors);
        Assert.Equal("/etc/other", fromVariable.Options.SparseCheckoutFile);
    }

    [Fact]
    public void SubmodulesAreRecursiveByDefaultAsInGitSync()
    {
        Assert.Equal(SubmoduleMode.Recursive, Parse([]).Options.Submodules);
        foreach (var (text, mode) in new[] { ("recursive", SubmoduleMode.Recursive), ("shallow", SubmoduleMode.Shallow), ("off", SubmoduleMode.Off) })
        {
            var result = Parse([], new() { ["GITSYNC_SUBMODULES"] = text });
            Assert.Empty(result.Errors);
            Assert.Equal(mode, result.Options.Submodules);
        }
    }

    [Fact]
    public void ASubmodulesModeIsSpelledAsGitSyncSpellsIt()
    {
        // The enum's own name is not a spelling the flag takes: git-sync's values are lower case.
        Assert.Contains("--submodules 'Recursive' is not a mode: give recursive, shallow or off (from GITSYNC_SUBMODULES)",
            Parse([], new() { ["GITSYNC_SUBMODULES"] = "Recursive" }).Errors);
    }

    [Fact]
    public void APasswordInACredentialIsNotEchoedInItsError()
    {
        var result = Parse(["--credential={\"url\":\"https://a\",\"username\":\"u\",\"password\":\"hunter2\""]);

        Assert.DoesNotContain(result.Errors, e => e.Contains("hunter2", StringComparison.Ordinal));
    }
}
