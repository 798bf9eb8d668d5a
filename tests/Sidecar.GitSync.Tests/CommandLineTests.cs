using Sidecar.GitSync.CommandLine;

namespace Sidecar.GitSync.Tests;

[Trait("Category", "Unit")]
public sealed class CommandLineTests
{
    private static GitSyncCommandLineResult Parse(string[] args, Dictionary<string, string>? environment = null) =>
        GitSyncCommandLine.Parse(args, name => environment?.GetValueOrDefault(name));

    [Fact]
    public void FlagsTakeBothSpellingsAndDefaultsFollowGitSync()
    {
        var result = Parse(["--repo=https://example.com/org/site.git", "--root", "/tmp/r", "--one-time"]);

        Assert.Empty(result.Errors);
        var options = result.Options;
        Assert.Equal("https://example.com/org/site.git", options.Repo);
        Assert.Equal("/tmp/r", options.Root);
        Assert.Equal("site", options.Link);
        Assert.Equal("/tmp/r/site", options.LinkPath);
        Assert.Equal("HEAD", options.Ref);
        Assert.Equal(TimeSpan.FromSeconds(10), options.Period);
        Assert.Equal(1, options.Depth);
        Assert.True(options.OneTime);
        Assert.Equal("", options.HttpBind);
    }

    [Fact]
    public void EnvironmentVariablesSetFlagsAndTheCommandLineWins()
    {
        var result = Parse(["--period=1m30s"], new()
        {
            ["GITSYNC_REPO"] = "https://example.com/org/docs.git",
            ["GITSYNC_ROOT"] = "/data",
            ["GITSYNC_PERIOD"] = "5s",
            ["GITSYNC_DEPTH"] = "0",
            ["GITSYNC_REF"] = "release",
            ["GITSYNC_LINK"] = "/srv/html",
            ["GITSYNC_HTTP_BIND"] = ":8080",
        });

        Assert.Empty(result.Errors);
        Assert.Equal(TimeSpan.FromSeconds(90), result.Options.Period);
        Assert.Equal(0, result.Options.Depth);
        Assert.Equal("release", result.Options.Ref);
        Assert.Equal("/srv/html", result.Options.LinkPath);
        Assert.Equal("http://0.0.0.0:8080", HttpBindAddress.TryParse(result.Options.HttpBind)!.Url);
    }

    [Theory]
    [InlineData("--period=soon", "--period 'soon' is not a duration")]
    [InlineData("--depth=-1", "--depth '-1' is not a whole number")]
    [InlineData("--http-bind=localhost", "--http-bind 'localhost' is not an address")]
    [InlineData("--frobnicate=1", "unknown flag '--frobnicate'")]
    [InlineData("--period=1ms", "--period 1ms is too short")]
    [InlineData("--link=.git", "--link '.git' would clash")]
    public void BadValuesAreNamedWithTheirFix(string flag, string expected)
    {
        var result = Parse(["--repo=https://example.com/a.git", "--root=/tmp/x", flag]);

        Assert.Contains(result.Errors, e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void MissingRequiredFlagsAreReported()
    {
        var result = Parse([]);

        Assert.Contains(result.Errors, e => e.StartsWith("--repo is required", StringComparison.Ordinal));
        Assert.Contains(result.Errors, e => e.StartsWith("--root is required", StringComparison.Ordinal));
    }

    [Fact]
    public void ValidationOnlyReadsTheOptionsAndNormalizingDerivesTheLink()
    {
        var options = new GitSyncOptions { Repo = "https://example.com/org/site.git", Root = "/tmp/r" };

        // Asked twice, the checks give the same answer and leave the options as they were.
        Assert.Equal(GitSyncCommandLine.Validate(options).ToList(), GitSyncCommandLine.Validate(options).ToList());
        Assert.Contains("--link could not be derived from --repo 'https://example.com/org/site.git': set --link to a name such as 'current'",
            GitSyncCommandLine.Validate(options));
        Assert.Equal("", options.Link);

        GitSyncCommandLine.Normalize(options);

        Assert.Equal("site", options.Link);
        Assert.Empty(GitSyncCommandLine.Validate(options));
    }

    [Fact]
    public void AnEnvironmentErrorNamesTheVariable()
    {
        var result = Parse(["--repo=r", "--root=/x"], new() { ["GITSYNC_DEPTH"] = "deep" });

        Assert.Contains(result.Errors, e => e.Contains("(from GITSYNC_DEPTH)", StringComparison.Ordinal));
    }

    [Fact]
    public void HelpListsEveryFlagAndItsVariable()
    {
        var help = GitSyncCommandLine.HelpText();

        foreach (var flag in GitSyncCommandLine.Flags)
        {
            Assert.Contains("--" + flag.Name, help);
            if (flag.EnvironmentVariables.FirstOrDefault() is { } variable)
            {
                Assert.Contains("$" + variable, help);
            }
        }
    }

    [Theory]
    [InlineData("10s", 10_000)]
    [InlineData("1m30s", 90_000)]
    [InlineData("500ms", 500)]
    [InlineData("1.5s", 1_500)]
    [InlineData("2h", 7_200_000)]
    public void GoDurationsParse(string text, double milliseconds)
    {
        Assert.True(GoDuration.TryParse(text, out var duration));
        Assert.Equal(milliseconds, duration.TotalMilliseconds);
    }
}
