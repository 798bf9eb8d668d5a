using Sidecar.DemoOrigin;
using Sidecar.Tests;
using Sidecar.GitSync.Git;
using Sidecar.GitSync.Snapshots;
using Sidecar.GitSync.Sync;

namespace Sidecar.GitSync.Tests;

/// <summary>
/// test_e2e.sh's sparse_checkout cases: <c>--sparse-checkout-file</c> against a real origin, and the
/// pattern matcher checked against what git itself checks out for the same patterns.
/// </summary>
[Trait("Category", "InProcess")]
public sealed class SparseCheckoutTests : IAsyncLifetime
{
    private static readonly string[] Files =
    [
        "index.html", "about.html", "README.md", "notes.txt", "#hash.txt", "Makefile",
        "docs/guide.md", "docs/private/secret.md", "docs/img/logo.png",
        "src/app.js", "src/lib/util.js", "src/lib/docs/readme.md",
        "a/b/c/deep.txt", "a/deep.txt", "x/a/b/y.txt", "build/out.html", "build/tmp/out.tmp",
    ];

    private SyncTestBed bed = null!;
    private readonly TempFolder patterns = new("sidecar-sparse");

    public async Task InitializeAsync() => bed = await SyncTestBed.StartAsync();

    public async Task DisposeAsync()
    {
        await bed.DisposeAsync();
        patterns.Dispose();
    }

    [Theory]
    [InlineData("*.html")]
    [InlineData("/*\n!/*/")]
    [InlineData("/docs/\n!/docs/private/")]
    [InlineData("docs/")]
    [InlineData("/docs")]
    [InlineData("**/lib/**")]
    [InlineData("a/**/deep.txt")]
    [InlineData("*.md\n!README.md")]
    [InlineData("src/*.js")]
    [InlineData("/*\n!/*/\n/docs/guide.md")]
    [InlineData("# a comment\n\n[a-c]*.html   \n")]
    [InlineData("x/*/b/")]
    [InlineData("\\#hash.txt")]
    [InlineData("?otes.txt\n[!a-m]*.js")]
    [InlineData("**/*.js\n!src/lib/")]
    [InlineData("[[:upper:]]*")]
    [InlineData("build/\n!*.tmp")]
    [InlineData("/*/\n!/*/*/")]
    public async Task TheMatcherTakesTheFilesGitChecksOut(string text)
    {
        var expected = await GitSparseCheckoutAsync(text);
        var matcher = SparseCheckoutPatterns.Parse(text, "patterns");

        var actual = Files.Where(matcher.IncludesFile).Order(StringComparer.Ordinal).ToArray();

        Assert.Equal(expected, actual);
        Assert.NotEmpty(actual);
    }

    [Theory]
    [InlineData("*.html", "docs/index.html", true)]
    [InlineData("/*.html", "docs/index.html", false)]
    [InlineData("docs/*.md", "docs/guide/intro.md", false)]
    [InlineData("docs/**/*.md", "docs/guide/intro.md", true)]
    [InlineData("docs/**/*.md", "docs/intro.md", true)]
    [InlineData("**/intro.md", "intro.md", true)]
    [InlineData("site/\n!site/*.map", "site/app.js.map", false)]
    [InlineData("site/\n!site/*.map", "site/app.js", true)]
    [InlineData("img[0-9].png", "img7.png", true)]
    [InlineData("img[!0-9].png", "img7.png", false)]
    [InlineData("\\!bang", "!bang", true)]
    [InlineData("trailing\\ ", "trailing ", true)]
    public void PatternsFollowGitignoreSemantics(string text, string path, bool included)
    {
        Assert.Equal(included, SparseCheckoutPatterns.Parse(text, "patterns").IncludesFile(path));
    }

    [Theory]
    [InlineData("ok/\nbad[ab", "line 2: the pattern 'bad[ab' is not valid (the bracket opened at character 4 is not closed)")]
    [InlineData("x[[:vowel:]]", "line 1: the pattern 'x[[:vowel:]]' is not valid ([:vowel:] is not a character class)")]
    [InlineData("# c\n!", "line 2: the pattern '!' is not valid (it names no path)")]
    [InlineData("a\nb\nends\\", "line 3: the pattern 'ends\\' is not valid (it ends with a lone backslash)")]
    public void AnInvalidPatternIsNamedWithItsFileAndLine(string text, string expected)
    {
        var error = Assert.Throws<SyncException>(() => SparseCheckoutPatterns.Parse(text, "/etc/sparse"));

        Assert.Contains($"--sparse-checkout-file '/etc/sparse' {expected}", error.Message);
        Assert.Contains("fix or remove that line", error.Message);
    }

    [Fact]
    public async Task OnlyMatchingFilesArePublished()
    {
        await bed.Repository.CommitAsync("site", ("index.html", "i"), ("about.html", "a"), ("css/site.css", "s"), ("css/print/p.css", "p"),
            ("src/app.ts", "t"), ("README.md", "r"), ("notes/n.html", "n"));

        var result = await bed.SyncOnceAsync(bed.Options(o => o.SparseCheckoutFile = PatternFile("/*.html\n/css/\n")));

        Assert.True(result.Outcome == SyncOutcome.Success, result.Error);
        Assert.Equal(["about.html", "css/print/p.css", "css/site.css", "index.html"], Published());
        Assert.False(Directory.Exists(Path.Combine(bed.LinkPath, "src")));
        Assert.False(Directory.Exists(Path.Combine(bed.LinkPath, "notes")));
    }

    [Fact]
    public async Task NegatedPatternsLeaveFilesAndFoldersOut()
    {
        await bed.Repository.CommitAsync("site", ("index.html", "i"), ("x.tmp", "x"), ("assets/a.png", "a"), ("assets/b.tmp", "b"),
            ("drafts/d.html", "d"));

        var result = await bed.SyncOnceAsync(bed.Options(o => o.SparseCheckoutFile = PatternFile("/*\n!/drafts/\n!*.tmp\n")));

        Assert.True(result.Outcome == SyncOutcome.Success, result.Error);
        Assert.Equal(["assets/a.png", "index.html"], Published());
    }

    [Fact]
    public async Task AFolderPatternTakesInEverythingBelowItAtAnyDepth()
    {
        await bed.Repository.CommitAsync("site", ("docs/a.md", "a"), ("docs/deep/er/b.md", "b"), ("api/docs/c.md", "c"), ("docs.md", "d"),
            ("other/e.md", "e"));

        var result = await bed.SyncOnceAsync(bed.Options(o => o.SparseCheckoutFile = PatternFile("docs/")));

        Assert.True(result.Outcome == SyncOutcome.Success, result.Error);
        Assert.Equal(["api/docs/c.md", "docs/a.md", "docs/deep/er/b.md"], Published());
    }

    [Fact]
    public async Task AChangedPatternFileTakesEffectWithTheNextRevisionAndUnchangedFilesKeepTheirInode()
    {
        var file = PatternFile("/a/\n");
        await bed.Repository.CommitAsync("one", ("a/1.txt", "1"), ("b/2.txt", "2"), ("c.txt", "c1"));
        await bed.SyncOnceAsync(bed.Options(o => o.SparseCheckoutFile = file));
        Assert.Equal(["a/1.txt"], Published());
        var inode = Inode(Path.Combine(bed.LinkPath, "a", "1.txt"));

        await File.WriteAllTextAsync(file, "/a/\n/b/\n");
        var second = await bed.Repository.CommitAsync("two", ("c.txt", "c2"));
        var result = await bed.SyncOnceAsync(bed.Options(o => o.SparseCheckoutFile = file));

        Assert.True(result.Outcome == SyncOutcome.Success, result.Error);
        Assert.Equal(second, result.Revision);
        Assert.Equal(["a/1.txt", "b/2.txt"], Published());
        Assert.Equal(inode, Inode(Path.Combine(bed.LinkPath, "a", "1.txt")));
    }

    [Fact]
    public async Task AMissingOrInvalidPatternFileFailsTheSyncAndKeepsTheLastGoodRevision()
    {
        var file = PatternFile("/a/\n");
        var first = await bed.Repository.CommitAsync("one", ("a/1.txt", "1"), ("b/2.txt", "2"));
        await bed.SyncOnceAsync(bed.Options(o => o.SparseCheckoutFile = file));

        await File.WriteAllTextAsync(file, "/a/\n/b[\n");
        await bed.Repository.CommitAsync("two", ("a/1.txt", "one"));
        var invalid = await bed.SyncOnceAsync(bed.Options(o => o.SparseCheckoutFile = file));

        Assert.Equal(SyncOutcome.Error, invalid.Outcome);
        Assert.Contains($"--sparse-checkout-file '{file}' line 2: the pattern '/b[' is not valid", invalid.Error);
        Assert.Equal(first, invalid.Revision);
        Assert.Equal($".worktrees/{first}", bed.LinkTarget);
        Assert.Equal("1", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "a", "1.txt")));
        Assert.Equal([first], bed.Snapshots);

        var missing = await bed.SyncOnceAsync(bed.Options(o => o.SparseCheckoutFile = file + ".gone"));

        Assert.Equal(SyncOutcome.Error, missing.Outcome);
        Assert.Contains($"--sparse-checkout-file '{file}.gone' could not be read", missing.Error);
        Assert.Contains("give a readable file of git sparse-checkout patterns", missing.Error);
        Assert.Equal($".worktrees/{first}", bed.LinkTarget);
    }

    private string PatternFile(string text)
    {
        var path = patterns.Combine($"sparse-{Guid.NewGuid():N}");
        File.WriteAllText(path, text);
        return path;
    }

    private string[] Published() =>
        Directory.EnumerateFiles(bed.LinkPath + "/", "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(bed.LinkPath, p).Replace('\\', '/'))
            // The worktree's .git file is not a file of the commit.
            .Where(p => p != ".git")
            .Order(StringComparer.Ordinal)
            .ToArray();

    // What git itself checks out for these patterns in non-cone mode, in a throwaway repository.
    private static async Task<string[]> GitSparseCheckoutAsync(string text)
    {
        using var work = new TempFolder("sidecar-sparse-git");
        await GitCli.RunAsync(work.Path, "init", "--quiet", ".");
        foreach (var file in Files)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(work.Combine(file))!);
            await File.WriteAllTextAsync(work.Combine(file), file);
        }
        await GitCli.RunAsync(work.Path, "add", "--all", ".");
        await GitCli.RunAsync(work.Path, "commit", "--quiet", "-m", "files");
        await GitCli.RunAsync(work.Path, "config", "core.sparseCheckout", "true");
        await GitCli.RunAsync(work.Path, "config", "core.sparseCheckoutCone", "false");
        await File.WriteAllTextAsync(work.Combine(".git", "info", "sparse-checkout"), text);
        await GitCli.RunAsync(work.Path, "read-tree", "-mu", "HEAD");
        return Directory.EnumerateFiles(work.Path, "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(work.Path, p))
            .Where(p => !p.StartsWith(".git/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToArray();
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
