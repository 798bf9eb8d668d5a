using System.Text.Json;

namespace Sidecar.GitSync.Tests;

/// <summary>test_e2e.sh's export_error and touch_file cases.</summary>
[Trait("Category", "InProcess")]
public sealed class ErrorAndTouchFileTests : IAsyncLifetime
{
    private SyncTestBed bed = null!;

    public async Task InitializeAsync() => bed = await SyncTestBed.StartAsync();

    public async Task DisposeAsync() => await bed.DisposeAsync();

    [Fact]
    public async Task TheErrorFileHoldsTheLastErrorAsJsonAndGoesAwayAfterASuccess()
    {
        await bed.Repository.CommitAsync("one", ("index.html", "one"));

        await bed.SyncOnceAsync(bed.Options(o => { o.Ref = "does-not-exist"; o.ErrorFile = "error.json"; }));

        using (var report = JsonDocument.Parse(await File.ReadAllTextAsync(bed.Root.Combine("error.json"))))
        {
            Assert.Contains("'does-not-exist' was not found", report.RootElement.GetProperty("error").GetString());
            Assert.Equal("does-not-exist", report.RootElement.GetProperty("ref").GetString());
            // git-sync's own fields, for tools that read its error file.
            Assert.Equal("error syncing repo", report.RootElement.GetProperty("Msg").GetString());
            Assert.Contains("couldn't find remote ref does-not-exist", report.RootElement.GetProperty("Err").GetString());
        }
        // test_e2e.sh's export_error greps the raw file for git's phrase.
        Assert.Contains("couldn't find remote ref", await File.ReadAllTextAsync(bed.Root.Combine("error.json")));
        Assert.Empty(Directory.GetFiles(bed.Root.Path, "error.json.tmp-*"));

        await bed.SyncOnceAsync(bed.Options(o => o.ErrorFile = "error.json"));
        Assert.False(File.Exists(bed.Root.Combine("error.json")));
    }

    [Fact]
    public async Task AnAbsoluteErrorFilePathIsUsedAsGiven()
    {
        var path = bed.Root.Combine("dir", "error.json");

        await bed.SyncOnceAsync(bed.Options(o => { o.Ref = "nope"; o.ErrorFile = path; }));

        Assert.Contains("'nope'", await File.ReadAllTextAsync(path));
        Assert.Contains("couldn't find remote ref nope", await File.ReadAllTextAsync(path));
    }

    [Fact]
    public async Task RefusedCredentialsAndAMissingRepositoryCarryGitsPhrasesToo()
    {
        await bed.Repository.CommitAsync("one", ("index.html", "one"));
        bed.Origin.RequiredCredentials = ("me", "pw");

        await bed.SyncOnceAsync(bed.Options(o => { o.ErrorFile = "error.json"; o.Username = "me"; o.Password = "s3cr3t-guess"; }));
        var refused = await File.ReadAllTextAsync(bed.Root.Combine("error.json"));
        bed.Origin.RequiredCredentials = null;
        await bed.SyncOnceAsync(bed.Options(o => { o.ErrorFile = "error.json"; o.Repo = bed.Origin.BaseUrl + "/missing.git"; }));
        var missing = await File.ReadAllTextAsync(bed.Root.Combine("error.json"));

        Assert.Contains($"Authentication failed for '{bed.Repository.Url}'", refused);
        Assert.Contains("check --username", refused);
        Assert.DoesNotContain("s3cr3t-guess", refused);
        Assert.Contains($"repository '{bed.Origin.BaseUrl}/missing.git' not found", missing);
    }

    [Fact]
    public async Task TheTouchFileIsTouchedOnEachNewPublishOnly()
    {
        await bed.Repository.CommitAsync("one", ("index.html", "one"));
        var touch = bed.Root.Combine("touch.file");

        await bed.SyncOnceAsync(bed.Options(o => o.TouchFile = "touch.file"));
        Assert.True(File.Exists(touch));
        File.Delete(touch);

        await bed.SyncOnceAsync(bed.Options(o => o.TouchFile = "touch.file"));
        Assert.False(File.Exists(touch));

        await bed.Repository.CommitAsync("two", ("index.html", "two"));
        await bed.SyncOnceAsync(bed.Options(o => o.TouchFile = "touch.file"));
        Assert.True(File.Exists(touch));
    }
}
