using LibGit2Sharp;
using Sidecar.DemoOrigin;
using Sidecar.Tests;
using Sidecar.GitSync.CommandLine;
using Sidecar.GitSync.Sync;

namespace Sidecar.GitSync.Tests;

/// <summary>
/// <c>--git-config</c>: git-sync's parser (its TestParseGitConfigs cases) and each key's effect on a real sync:
/// test_e2e.sh's additional_git_configs, url.BASE.insteadOf, http.proxy, protocol.*.allow and safe.directory.
/// </summary>
[Trait("Category", "InProcess")]
public sealed class GitConfigTests : IAsyncLifetime
{
    private SyncTestBed bed = null!;

    public async Task InitializeAsync() => bed = await SyncTestBed.StartAsync();

    public async Task DisposeAsync() => await bed.DisposeAsync();

    // git-sync's main_test.go TestParseGitConfigs, case by case ("|" separates expected pairs, "=" key from value).
    [Theory]
    [InlineData("", "")]
    [InlineData("k:v", "k=v")]
    [InlineData("\"k\":v", "k=v")]
    [InlineData("k:\"v\"", "k=v")]
    [InlineData("\"k\":\"v\"", "k=v")]
    [InlineData("k1:v1,\"k2\":v2,k3:\"v3\",\"k4\":\"v4\"", "k1=v1|k2=v2|k3=v3|k4=v4")]
    [InlineData("sect.var:v", "sect.var=v")]
    [InlineData("sect.sub.var:v", "sect.sub.var=v")]
    [InlineData("k.sect.sub section:v", "k.sect.sub section=v")]
    [InlineData("k.sect.sub\\tsection:v", "k.sect.sub\\tsection=v")]
    [InlineData("k.sect.sub,section:v", "k.sect.sub,section=v")]
    [InlineData("\"k.sect.sub section\":v", "k.sect.sub section=v")]
    [InlineData("\"k.sect.sub\\t\\n\\\\section\":v", "k.sect.sub\t\n\\section=v")]
    [InlineData("\"k.sect.sub,section\":v", "k.sect.sub,section=v")]
    [InlineData("\"k.sect.sub:section\":v", "k.sect.sub:section=v")]
    [InlineData("k1:v 1,k2:v 2", "k1=v 1|k2=v 2")]
    [InlineData("k1:\" v 1 \",k2:\" v 2 \"", "k1= v 1 |k2= v 2 ")]
    [InlineData("k1:v 1,k2:\" v 2 \"", "k1=v 1|k2= v 2 ")]
    [InlineData("k1:\"v1\",k2:\"v2\",", "k1=v1|k2=v2")]
    [InlineData("k1:v\\n\\t\\\\\\\"\\,1", "k1=v\n\t\\\",1")]
    [InlineData("k1:\"v\\n\\t\\\\\\\"\\,1\"", "k1=v\n\t\\\",1")]
    [InlineData("k1:\"v,1\"", "k1=v,1")]
    public void TheFlagIsParsedAsGitSyncParsesIt(string input, string expected)
    {
        var parsed = GitConfigFlag.Parse(input);

        Assert.Equal(expected, string.Join("|", parsed.Select(e => e.Key + "=" + e.Value)));
    }

    [Theory]
    [InlineData("abc123")]
    [InlineData("\"k\\xk\":v\"")]
    [InlineData("k1:\"v1\"x,k2:\"v2\"")]
    [InlineData("\"k1:v1")]
    [InlineData("k1:\"v1")]
    public void MalformedValuesFailAsInGitSync(string input)
    {
        Assert.Throws<FormatException>(() => GitConfigFlag.Parse(input));
    }

    [Fact]
    public async Task ArbitraryKeysAreWrittenWhereGitReadsThemAndDroppedWhenTheFlagIs()
    {
        var sha = await bed.Repository.CommitAsync("one", ("file", "additional_git_configs"));
        var options = Parsed("--git-config", "http.postBuffer:10485760,sect.k1:\"a val\",sect.k2:another val,\"url.http://a b/.insteadOf\":\"x,y\"");

        var result = await bed.SyncOnceAsync(options);

        Assert.True(result.Outcome == SyncOutcome.Success, result.Error);
        Assert.Equal(sha, result.Revision);
        var gitDir = "--git-dir=" + bed.Root.Combine(".git");
        Assert.Equal("10485760", await GitCli.RunAsync(bed.Root.Path, [gitDir, "config", "--get", "http.postbuffer"]));
        Assert.Equal("a val", await GitCli.RunAsync(bed.Root.Path, [gitDir, "config", "--get", "sect.k1"]));
        Assert.Equal("another val", await GitCli.RunAsync(bed.Root.Path, [gitDir, "config", "--get", "sect.k2"]));
        Assert.Equal("x,y", await GitCli.RunAsync(bed.Root.Path, [gitDir, "config", "--get", "url.http://a b/.insteadof"]));

        // A restart without the flag leaves none of it behind.
        await bed.Repository.CommitAsync("two", ("file", "two"));
        Assert.Equal(SyncOutcome.Success, (await bed.SyncOnceAsync(bed.Options())).Outcome);
        Assert.False(File.Exists(bed.Root.Combine(".git", GitConfigSettings.FileName)));
        await Assert.ThrowsAnyAsync<Exception>(() => GitCli.RunAsync(bed.Root.Path, [gitDir, "config", "--get", "sect.k1"]));
    }

    [Fact]
    public async Task InsteadOfRewritesTheRepoUrlAsGitDoes()
    {
        var sha = await bed.Repository.CommitAsync("one", ("index.html", "one"));
        var options = Parsed("--repo", "https://git.example.invalid/org/site.git",
            // A key holding a colon is quoted, as git-sync's parser needs.
            "--git-config", $"\"url.{bed.Origin.BaseUrl}/.insteadOf\":https://git.example.invalid/org/");

        var result = await bed.SyncOnceAsync(options);

        Assert.True(result.Outcome == SyncOutcome.Success, result.Error);
        Assert.Equal(sha, result.Revision);
    }

    [Fact]
    public async Task SslVerifyFalseAcceptsASelfSignedServerAndTheDefaultRefusesIt()
    {
        var sha = await bed.Repository.CommitAsync("one", ("index.html", "one"));
        await using var https = LoopbackRelay.Https(new Uri(bed.Origin.BaseUrl).Port);
        var url = $"https://127.0.0.1:{https.Port}/site.git";

        var refused = await bed.SyncOnceAsync(Parsed("--repo", url));
        Assert.Equal(SyncOutcome.Error, refused.Outcome);
        Assert.Contains("certificate", refused.Error, StringComparison.OrdinalIgnoreCase);

        // Depth 1 and depth 0 take different fetch paths; both list the refs first.
        foreach (var depth in new[] { "1", "0" })
        {
            using var root = new TempFolder("sidecar-tls");
            var result = await bed.SyncOnceAsync(Parsed("--repo", url, "--root", root.Path, "--depth", depth, "--git-config", "http.sslVerify:false"));

            Assert.True(result.Outcome == SyncOutcome.Success, result.Error);
            Assert.Equal(sha, result.Revision);
        }
    }

    [Fact]
    public async Task HttpProxyCarriesTheConnections()
    {
        var sha = await bed.Repository.CommitAsync("one", ("index.html", "one"));
        await using var https = LoopbackRelay.Https(new Uri(bed.Origin.BaseUrl).Port);
        await using var proxy = LoopbackRelay.ConnectProxy(https.Port);
        // The host does not resolve: only the proxy reaches the origin. (libgit2 1.8 proxies https only, by CONNECT.)
        foreach (var depth in new[] { "1", "0" })
        {
            using var root = new TempFolder("sidecar-proxy");
            var options = Parsed("--repo", "https://git.example.invalid/site.git", "--root", root.Path, "--depth", depth,
                "--git-config", $"http.proxy:http://127.0.0.1:{proxy.Port},http.sslVerify:false");

            var result = await bed.SyncOnceAsync(options);

            Assert.True(result.Outcome == SyncOutcome.Success, result.Error);
            Assert.Equal(sha, result.Revision);
        }
        Assert.True(proxy.Tunnels >= 2, $"{proxy.Tunnels} tunnels");
    }

    [Fact]
    public async Task ProtocolAllowNeverRefusesTheRepoAndNamesTheSetting()
    {
        await bed.Repository.CommitAsync("one", ("index.html", "one"));

        var result = await bed.SyncOnceAsync(Parsed("--repo", "file://" + bed.Repository.BarePath, "--git-config", "protocol.file.allow:never"));

        Assert.Equal(SyncOutcome.Error, result.Outcome);
        Assert.Contains("uses the file protocol, which --git-config refuses (protocol.file.allow or protocol.allow is never)", result.Error);
        Assert.Equal(SyncOutcome.Success, (await bed.SyncOnceAsync(Parsed("--repo", "file://" + bed.Repository.BarePath))).Outcome);
    }

    [Fact]
    public void TheProtocolPolicyIsGitsForSubmodules()
    {
        var none = new GitConfigSettings([]);
        var always = new GitConfigSettings(GitConfigFlag.Parse("protocol.file.allow:always"));
        var strict = new GitConfigSettings(GitConfigFlag.Parse("protocol.allow:never,protocol.https.allow:always"));

        Assert.False(none.SubmoduleProtocolAllowed("file"));
        Assert.True(none.SubmoduleProtocolAllowed("https"));
        Assert.True(none.SubmoduleProtocolAllowed("ssh"));
        Assert.True(always.SubmoduleProtocolAllowed("file"));
        Assert.True(strict.SubmoduleProtocolAllowed("https"));
        Assert.False(strict.SubmoduleProtocolAllowed("http"));
        Assert.True(none.RepoProtocolAllowed("file"));
        Assert.Equal("file", GitConfigSettings.SchemeOf("/srv/git/site.git"));
        Assert.Equal("file", GitConfigSettings.SchemeOf("file:///srv/git/site.git"));
        Assert.Equal("ssh", GitConfigSettings.SchemeOf("git@github.com:org/site.git"));
        Assert.Equal("https", GitConfigSettings.SchemeOf("https://github.com/org/site.git"));
    }

    [Fact]
    public void SafeDirectoryKeepsGitSyncsDefaultOfTrustingEveryRepository()
    {
        Assert.True(new GitConfigSettings([]).TrustsOwnerOf("/data/root"));
        Assert.True(new GitConfigSettings(GitConfigFlag.Parse("safe.directory:*")).TrustsOwnerOf("/data/root"));
        Assert.True(new GitConfigSettings(GitConfigFlag.Parse("safe.directory:/data/root")).TrustsOwnerOf("/data/root/"));
        Assert.False(new GitConfigSettings(GitConfigFlag.Parse("safe.directory:/elsewhere")).TrustsOwnerOf("/data/root"));
    }

    [Fact]
    public void SslVerifyIsReadAsAGitBoolean()
    {
        Assert.True(new GitConfigSettings([]).SslVerify);
        Assert.False(new GitConfigSettings(GitConfigFlag.Parse("http.sslVerify:false")).SslVerify);
        Assert.False(new GitConfigSettings(GitConfigFlag.Parse("HTTP.SSLVERIFY:off")).SslVerify);
        Assert.True(new GitConfigSettings(GitConfigFlag.Parse("http.sslVerify:false,http.sslverify:true")).SslVerify);
    }

    private GitSyncOptions Parsed(params string[] args)
    {
        var parsed = GitSyncCommandLine.Parse(["--repo", bed.Repository.Url, "--root", bed.Root.Path, "--link", "current", "--one-time", .. args], _ => null);
        Assert.Empty(parsed.Errors);
        return parsed.Options;
    }
}
