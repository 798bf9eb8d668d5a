using LibGit2Sharp;
using Sidecar.DemoOrigin;
using Sidecar.Tests;
using Sidecar.GitSync.CommandLine;
using Sidecar.GitSync.Git;
using Sidecar.GitSync.Sync;

namespace Sidecar.GitSync.Tests;

/// <summary>
/// test_e2e.sh's submodule cases: a superproject and its submodules on one origin, submodules named by
/// relative URLs as most projects do, checked out by <c>--submodules</c> at each mode.
/// </summary>
[Trait("Category", "InProcess")]
public sealed class SubmoduleTests : IAsyncLifetime
{
    private SyncTestBed bed = null!;
    private OriginRepository lib = null!;
    private OriginRepository inner = null!;

    private OriginRepository Site => bed.Repository;

    public async Task InitializeAsync()
    {
        bed = await SyncTestBed.StartAsync();
        lib = await bed.Origin.CreateRepositoryAsync("lib");
        inner = await bed.Origin.CreateRepositoryAsync("inner");
    }

    public async Task DisposeAsync() => await bed.DisposeAsync();

    [Fact]
    public async Task ASubmoduleWithARelativeUrlIsCheckedOutIntoTheSnapshot()
    {
        var libSha = await lib.CommitAsync("lib", ("lib.js", "lib v1"), ("css/lib.css", "lib{}"));
        var site = await CommitSiteAsync("site", [("vendor/lib", "lib", "../lib.git", libSha)], ("index.html", "home"));

        var result = await bed.SyncOnceAsync(bed.Options());

        Assert.True(result.Outcome == SyncOutcome.Success, result.Error);
        Assert.Equal(site, result.Revision);
        Assert.Equal("home", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "index.html")));
        Assert.Equal("lib v1", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "vendor", "lib", "lib.js")));
        Assert.Equal("lib{}", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "vendor", "lib", "css", "lib.css")));
        Assert.False(File.Exists(Path.Combine(bed.LinkPath, ".gitmodules")));
        using var store = new Repository(bed.Root.Combine(".git", "modules", "lib"));
        Assert.Equal(lib.Url, store.Network.Remotes["origin"].Url);
        Assert.NotNull(store.Lookup<Commit>(libSha));
    }

    [Fact]
    public async Task ABumpedSubmoduleIsSyncedAndItsUnchangedFilesKeepTheirInode()
    {
        var first = await lib.CommitAsync("lib 1", ("lib.js", "lib v1"), ("same.css", "same"));
        await CommitSiteAsync("site 1", [("lib", "lib", "../lib.git", first)], ("index.html", "home"));
        await bed.SyncOnceAsync(bed.Options());
        var inode = Inode(Path.Combine(bed.LinkPath, "lib", "same.css"));

        var second = await lib.CommitAsync("lib 2", ("lib.js", "lib v2"));
        var site = await CommitSiteAsync("site 2", [("lib", "lib", "../lib.git", second)]);
        var result = await bed.SyncOnceAsync(bed.Options());

        Assert.True(result.Outcome == SyncOutcome.Success, result.Error);
        Assert.Equal(site, result.Revision);
        Assert.Equal("lib v2", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "lib", "lib.js")));
        Assert.Equal(inode, Inode(Path.Combine(bed.LinkPath, "lib", "same.css")));
    }

    [Theory]
    [InlineData(SubmoduleMode.Recursive, true)]
    [InlineData(SubmoduleMode.Shallow, false)]
    public async Task NestedSubmodulesAreCheckedOutByRecursiveAndLeftEmptyByShallow(SubmoduleMode mode, bool nested)
    {
        var innerSha = await inner.CommitAsync("inner", ("inner.txt", "deep"));
        var libSha = await CommitWithGitlinksAsync(lib, "lib", [("deps/inner", "inner", "../inner.git", innerSha)], ("lib.js", "lib"));
        await CommitSiteAsync("site", [("vendor/lib", "lib", "../lib.git", libSha)], ("index.html", "home"));

        var result = await bed.SyncOnceAsync(bed.Options(o => o.Submodules = mode));

        Assert.True(result.Outcome == SyncOutcome.Success, result.Error);
        Assert.Equal("lib", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "vendor", "lib", "lib.js")));
        var innerFolder = Path.Combine(bed.LinkPath, "vendor", "lib", "deps", "inner");
        Assert.True(Directory.Exists(innerFolder));
        Assert.Equal(nested, File.Exists(Path.Combine(innerFolder, "inner.txt")));
        Assert.Equal(nested, Directory.Exists(bed.Root.Combine(".git", "modules", "lib", "modules", "inner")));
        if (!nested)
        {
            Assert.Empty(Directory.EnumerateFileSystemEntries(innerFolder));
        }
    }

    [Fact]
    public async Task OffLeavesTheSubmoduleAnEmptyFolder()
    {
        var libSha = await lib.CommitAsync("lib", ("lib.js", "lib"));
        await CommitSiteAsync("site", [("vendor/lib", "lib", "../lib.git", libSha)], ("index.html", "home"));

        var result = await bed.SyncOnceAsync(bed.Options(o => o.Submodules = SubmoduleMode.Off));

        Assert.True(result.Outcome == SyncOutcome.Success, result.Error);
        Assert.Equal("home", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "index.html")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(bed.LinkPath, "vendor", "lib")));
        Assert.False(Directory.Exists(bed.Root.Combine(".git", "modules")));
    }

    [Fact]
    public async Task SparsePatternsTakeASubmoduleInOrLeaveItOutWhole()
    {
        var libSha = await lib.CommitAsync("lib", ("lib.js", "lib"), ("docs/readme.md", "r"));
        await CommitSiteAsync("site", [("lib", "lib", "../lib.git", libSha)], ("index.html", "home"), ("other.html", "o"));
        using var patterns = new TempFolder("sidecar-sparse");
        var file = patterns.Combine("sparse");

        await File.WriteAllTextAsync(file, "/index.html\n");
        var without = await bed.SyncOnceAsync(bed.Options(o => o.SparseCheckoutFile = file));

        Assert.True(without.Outcome == SyncOutcome.Success, without.Error);
        Assert.False(Directory.Exists(Path.Combine(bed.LinkPath, "lib")));
        Assert.False(Directory.Exists(bed.Root.Combine(".git", "modules")));

        // The superproject's patterns do not reach into the submodule: /lib takes it in whole, !*.md included.
        await File.WriteAllTextAsync(file, "/index.html\n/lib\n!*.md\n");
        await CommitSiteAsync("site 2", [("lib", "lib", "../lib.git", libSha)], ("index.html", "home 2"));
        var with = await bed.SyncOnceAsync(bed.Options(o => o.SparseCheckoutFile = file));

        Assert.True(with.Outcome == SyncOutcome.Success, with.Error);
        Assert.Equal("lib", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "lib", "lib.js")));
        Assert.Equal("r", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "lib", "docs", "readme.md")));
        Assert.False(File.Exists(Path.Combine(bed.LinkPath, "other.html")));
    }

    [Fact]
    public async Task DepthAppliesToSubmoduleFetches()
    {
        await lib.CommitAsync("one", ("lib.js", "1"));
        await lib.CommitAsync("two", ("lib.js", "2"));
        var head = await lib.CommitAsync("three", ("lib.js", "3"));
        await CommitSiteAsync("site", [("lib", "lib", "../lib.git", head)]);

        var result = await bed.SyncOnceAsync(bed.Options(o => o.Depth = 1));

        Assert.True(result.Outcome == SyncOutcome.Success, result.Error);
        Assert.Equal("3", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "lib", "lib.js")));
        using var shallow = new Repository(bed.Root.Combine(".git", "modules", "lib"));
        Assert.True(shallow.Info.IsShallow);
        Assert.Single(shallow.Commits.QueryBy(new CommitFilter { IncludeReachableFrom = head }));
    }

    [Fact]
    public async Task ARemoteThatRefusesCommitIdsStillServesABranchTipThroughItsRefs()
    {
        await lib.GitAsync("config", "uploadpack.allowReachableSHA1InWant", "false");
        await lib.CommitAsync("old", ("lib.js", "old"));
        var tip = await lib.CommitAsync("tip", ("lib.js", "tip"));
        await CommitSiteAsync("site", [("lib", "lib", "../lib.git", tip)]);

        var result = await bed.SyncOnceAsync(bed.Options());

        Assert.True(result.Outcome == SyncOutcome.Success, result.Error);
        Assert.Equal("tip", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "lib", "lib.js")));
        using var store = new Repository(bed.Root.Combine(".git", "modules", "lib"));
        Assert.Equal(tip, store.Refs["refs/remotes/origin/main"]?.TargetIdentifier);
    }

    [Fact]
    public async Task AMissingSubmoduleCommitFailsClearlyAndTheOldRevisionStaysServed()
    {
        var libSha = await lib.CommitAsync("lib", ("lib.js", "lib"));
        var good = await CommitSiteAsync("site 1", [("lib", "lib", "../lib.git", libSha)], ("index.html", "one"));
        await bed.SyncOnceAsync(bed.Options());

        const string missing = "0123456789abcdef0123456789abcdef01234567";
        await CommitSiteAsync("site 2", [("lib", "lib", "../lib.git", missing)], ("index.html", "two"));
        var result = await bed.SyncOnceAsync(bed.Options());

        Assert.Equal(SyncOutcome.Error, result.Outcome);
        Assert.Contains($"submodule 'lib' at 'lib': commit {missing} was not found at '{lib.Url}'", result.Error);
        Assert.Equal(good, result.Revision);
        Assert.Equal($".worktrees/{good}", bed.LinkTarget);
        Assert.Equal("one", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "index.html")));
        Assert.Equal([good], bed.Snapshots);
    }

    [Fact]
    public async Task AnUnreachableUrlAMissingGitmodulesEntryOrALocalUrlFailsClearly()
    {
        var libSha = await lib.CommitAsync("lib", ("lib.js", "lib"));
        await CommitSiteAsync("site", [("lib", "lib", "../nowhere.git", libSha)]);

        var unreachable = await bed.SyncOnceAsync(bed.Options());

        Assert.Equal(SyncOutcome.Error, unreachable.Outcome);
        Assert.Contains($"submodule 'lib' at 'lib' could not be fetched from '{bed.Origin.BaseUrl}/nowhere.git'", unreachable.Error);
        Assert.Null(unreachable.Revision);
        // The superproject's own store is not blamed for a submodule's failure.
        Assert.True(Repository.IsValid(bed.Root.Combine(".git")));

        await CommitSiteAsync("no entry", [("lib", "lib", "../lib.git", libSha)], (".gitmodules", "# emptied\n"));
        var noEntry = await bed.SyncOnceAsync(bed.Options());

        Assert.Equal(SyncOutcome.Error, noEntry.Outcome);
        Assert.Contains("the submodule at 'lib' has no entry in .gitmodules", noEntry.Error);

        await CommitSiteAsync("local", [("lib", "lib", lib.BarePath, libSha)]);
        var local = await bed.SyncOnceAsync(bed.Options());

        Assert.Equal(SyncOutcome.Error, local.Outcome);
        Assert.Contains($"submodule 'lib' at 'lib' has the local URL '{lib.BarePath}', which git refuses for submodules by default (protocol.file.allow=user): give --git-config=protocol.file.allow:always to allow it", local.Error);
    }

    [Theory]
    [InlineData("file")]
    [InlineData("path")]
    public async Task LocalSubmoduleUrlsWorkWithProtocolFileAllowAlways(string form)
    {
        var innerSha = await inner.CommitAsync("inner", ("nested-submodule.file", "nested-submodule"));
        var innerUrl = form == "file" ? "file://" + inner.BarePath : inner.BarePath;
        var libSha = await CommitWithGitlinksAsync(lib, "lib", [("nested-sub", "nested-sub", innerUrl, innerSha)], ("submodule.file", "submodule"));
        var libUrl = form == "file" ? "file://" + lib.BarePath : lib.BarePath;
        await CommitSiteAsync("site", [("sub", "sub", libUrl, libSha)], ("file", "top"));

        var refused = await bed.SyncOnceAsync(bed.Options());
        var result = await bed.SyncOnceAsync(Allowing("protocol.file.allow:always"));

        Assert.Equal(SyncOutcome.Error, refused.Outcome);
        Assert.True(result.Outcome == SyncOutcome.Success, result.Error);
        Assert.Equal("submodule", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "sub", "submodule.file")));
        Assert.Equal("nested-submodule", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "sub", "nested-sub", "nested-submodule.file")));
    }

    [Fact]
    public async Task ALocalSubmoduleIsFetchedAtDepth()
    {
        await lib.CommitAsync("lib 1", ("submodule.file", "one"));
        await lib.CommitAsync("lib 2", ("submodule.file", "two"));
        var libSha = await lib.CommitAsync("lib 3", ("submodule.file", "three"));
        await CommitSiteAsync("site", [("sub", "sub", "file://" + lib.BarePath, libSha)], ("file", "top"));

        var result = await bed.SyncOnceAsync(Allowing("protocol.file.allow:always"));

        Assert.True(result.Outcome == SyncOutcome.Success, result.Error);
        Assert.Equal("three", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "sub", "submodule.file")));
        // --depth=1 (the default) over a local URL: git itself sees one commit of the submodule's history.
        var store = bed.Root.Combine(".git", "modules", "sub");
        Assert.Equal("1", (await GitCli.RunAsync(null, "--git-dir=" + store, "rev-list", "--count", libSha)).Trim());
        Assert.Equal(libSha, (await File.ReadAllTextAsync(Path.Combine(store, "shallow"))).Trim());
    }

    [Fact]
    public async Task ARelativeSubmoduleOfAFileRepoIsALocalUrlToo()
    {
        var libSha = await lib.CommitAsync("lib", ("submodule.file", "submodule"));
        var site = await CommitSiteAsync("site", [("sub", "sub", "../lib.git", libSha)], ("file", "top"));

        var refused = await bed.SyncOnceAsync(bed.Options(o => o.Repo = "file://" + Site.BarePath));
        var parsed = GitSyncCommandLine.Parse(["--repo", "file://" + Site.BarePath, "--root", bed.Root.Path, "--link", "current", "--one-time",
            "--git-config", "protocol.file.allow:always"], _ => null);
        var result = await bed.SyncOnceAsync(parsed.Options);

        Assert.Contains($"has the local URL 'file://{lib.BarePath}'", refused.Error);
        Assert.True(result.Outcome == SyncOutcome.Success, result.Error);
        Assert.Equal(site, result.Revision);
        Assert.Equal("submodule", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "sub", "submodule.file")));
    }

    [Fact]
    public async Task InsteadOfRewritesSubmoduleUrls()
    {
        var libSha = await lib.CommitAsync("lib", ("lib.js", "lib"));
        await CommitSiteAsync("site", [("lib", "lib", "https://github.example.invalid/org/lib.git", libSha)], ("index.html", "home"));

        var result = await bed.SyncOnceAsync(Allowing($"\"url.{bed.Origin.BaseUrl}/.insteadOf\":https://github.example.invalid/org/"));

        Assert.True(result.Outcome == SyncOutcome.Success, result.Error);
        Assert.Equal("lib", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "lib", "lib.js")));
    }

    [Fact]
    public async Task AProtocolGitDoesNotAllowForSubmodulesIsRefusedByName()
    {
        var libSha = await lib.CommitAsync("lib", ("lib.js", "lib"));
        await CommitSiteAsync("site", [("lib", "lib", lib.Url, libSha)]);

        // "user" allows what the user gave (--repo) and refuses what a commit names (a submodule).
        var result = await bed.SyncOnceAsync(Allowing("protocol.allow:user"));

        Assert.Equal(SyncOutcome.Error, result.Outcome);
        Assert.Contains("whose protocol 'http' git does not allow for submodules: give --git-config=protocol.http.allow:always", result.Error);
    }

    private GitSyncOptions Allowing(string gitConfig)
    {
        var parsed = GitSyncCommandLine.Parse(["--repo", Site.Url, "--root", bed.Root.Path, "--link", "current", "--one-time", "--git-config", gitConfig], _ => null);
        Assert.Empty(parsed.Errors);
        return parsed.Options;
    }

    [Theory]
    [InlineData("../lib.git", "http://h/org/site.git", "http://h/org/lib.git")]
    [InlineData("../../other/lib", "http://h/org/site.git", "http://h/other/lib")]
    [InlineData("./sub.git", "http://h/org/site.git/", "http://h/org/site.git/sub.git")]
    [InlineData("https://x/y.git", "http://h/org/site.git", "https://x/y.git")]
    [InlineData("../lib.git", "/srv/git/site.git", "/srv/git/lib.git")]
    public void RelativeUrlsResolveAsGitResolvesThem(string url, string parent, string expected)
    {
        Assert.Equal(expected, GitModules.ResolveUrl(url, parent));
    }

    [Fact]
    public void AUrlThatClimbsAboveTheHostIsRefused()
    {
        var error = Assert.Throws<SyncException>(() => GitModules.ResolveUrl("../../../x.git", "http://h/site.git"));

        Assert.Contains("'../../../x.git' climbs above 'http://h/site.git'", error.Message);
    }

    [Fact]
    public void GitmodulesIsReadAsAGitConfigFile()
    {
        var modules = GitModules.Parse("""
            # a comment
            [core]
                path = not-a-submodule
            [submodule "a \"b\""]
                path = "vendor/a b" ; the folder
                URL = ../a.git
            [submodule "c"]
                path = c
            [submodule "c"]
                url = https://x/c.git # later sections add keys
            """);

        Assert.Equal(
            [new GitModule("a \"b\"", "vendor/a b", "../a.git"), new GitModule("c", "c", "https://x/c.git")],
            modules);
    }

    // Commits the superproject with its .gitmodules and gitlinks, plus files (a .gitmodules among them wins).
    private Task<string> CommitSiteAsync(string message, (string Path, string Name, string Url, string Sha)[] links, params (string Path, string? Content)[] files) =>
        CommitWithGitlinksAsync(Site, message, links, files);

    // git add cannot record a gitlink without a checked-out submodule, so the index is given it directly.
    internal static async Task<string> CommitWithGitlinksAsync(OriginRepository repository, string message,
        (string Path, string Name, string Url, string Sha)[] links, params (string Path, string? Content)[] files)
    {
        var gitmodules = string.Concat(links.Select(l => $"[submodule \"{l.Name}\"]\n\tpath = {l.Path}\n\turl = {l.Url}\n"));
        foreach (var (path, content) in files.Prepend((".gitmodules", gitmodules)))
        {
            var full = Path.Combine(repository.WorkTree, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            await File.WriteAllTextAsync(full, content);
        }
        var workTree = "--work-tree=" + repository.WorkTree;
        await repository.GitAsync(workTree, "add", "--all", ".");
        foreach (var link in links)
        {
            await repository.GitAsync(workTree, "update-index", "--add", "--cacheinfo", $"160000,{link.Sha},{link.Path}");
        }
        await repository.GitAsync(workTree, "commit", "--quiet", "-m", message);
        return await repository.GitAsync("rev-parse", "HEAD");
    }

    // The inode number, as stat(1) reports it.
    private static long Inode(string path)
    {
        using var stat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%i", path]) { RedirectStandardOutput = true })!;
        var text = stat.StandardOutput.ReadToEnd();
        stat.WaitForExit();
        return long.Parse(text.Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
