using Sidecar.GitSync.CommandLine;
using Sidecar.GitSync.Sync;
using Sidecar.GitSync.Git;

namespace Sidecar.GitSync.Tests;

/// <summary>test_e2e.sh's auth cases over HTTP Basic: username with password, password file (re-read), URL credentials, --credential.</summary>
[Trait("Category", "InProcess")]
public sealed class AuthTests : IAsyncLifetime
{
    private SyncTestBed bed = null!;

    public async Task InitializeAsync() => bed = await SyncTestBed.StartAsync();

    public async Task DisposeAsync() => await bed.DisposeAsync();

    [Fact]
    public async Task UsernameAndPasswordAreSent()
    {
        var sha = await bed.Repository.CommitAsync("one", ("index.html", "one"));
        bed.Origin.RequiredCredentials = ("me", "pw");

        var refused = await bed.SyncOnceAsync(bed.Options(o => { o.Username = "me"; o.Password = "wrong"; }));
        Assert.Equal(SyncOutcome.Error, refused.Outcome);
        Assert.Contains("refused the credentials", refused.Error);
        Assert.Contains("--password-file", refused.Error);
        var result = await bed.SyncOnceAsync(bed.Options(o => { o.Username = "me"; o.Password = "pw"; }));

        Assert.Equal(sha, result.Revision);
    }

    [Fact]
    public async Task AChallengeWhoseBodyComesInALaterPacketIsAnswered()
    {
        var sha = await bed.Repository.CommitAsync("one", ("index.html", "one"));
        bed.Origin.RequiredCredentials = ("me", "pw");
        // The head of each 401 is flushed alone; its body follows 200 ms later, in a packet of its own.
        bed.Origin.ChallengeBodyDelay = TimeSpan.FromMilliseconds(200);

        var result = await bed.SyncOnceAsync(bed.Options(o => { o.Username = "me"; o.Password = "pw"; }));

        Assert.True(result.Outcome == SyncOutcome.Success, result.Error);
        Assert.Equal(sha, result.Revision);
        Assert.True(bed.Origin.RefusedRequests > 0);
    }

    [Fact]
    public async Task Libgit2LosesTheConnectionOnALaterChallengeBodyWithoutAContentType()
    {
        await bed.Repository.CommitAsync("one", ("index.html", "one"));
        bed.Origin.RequiredCredentials = ("me", "pw");
        bed.Origin.ChallengeBodyDelay = TimeSpan.FromMilliseconds(200);
        bed.Origin.ChallengeContentType = null;

        var result = await bed.SyncOnceAsync(bed.Options(o => { o.Username = "me"; o.Password = "pw"; }));

        // libgit2 1.8.6 reads a body only when a response has a Content-Type (or is chunked), so the later body is read
        // as the next response. Fixed on libgit2's main branch (242d66e, "httpclient: stop if there's no content
        // length"), in no release yet. When this fails, the library has the fix: drop this test and the note in docs/gitsync.md.
        Assert.Equal(SyncOutcome.Error, result.Outcome);
        Assert.Contains("http parser error: Expected HTTP/", result.Error);
        Assert.Contains("send a Content-Type with every body", result.Error);
    }

    [Fact]
    public async Task ThePasswordFileIsReadAgainBeforeEverySync()
    {
        await bed.Repository.CommitAsync("one", ("index.html", "one"));
        var file = bed.Root.Combine("..", $"pw-{Guid.NewGuid():N}");
        try
        {
            bed.Origin.RequiredCredentials = ("me", "old");
            await File.WriteAllTextAsync(file, "old\n");
            var options = bed.Options(o => { o.Username = "me"; o.PasswordFile = file; });
            Assert.Equal(SyncOutcome.Success, (await bed.SyncOnceAsync(options)).Outcome);

            // The token rotates on the server and in the file: the same options pick it up.
            bed.Origin.RequiredCredentials = ("me", "new");
            var sha = await bed.Repository.CommitAsync("two", ("index.html", "two"));
            Assert.Equal(SyncOutcome.Error, (await bed.SyncOnceAsync(options)).Outcome);
            await File.WriteAllTextAsync(file, "new");
            Assert.Equal(sha, (await bed.SyncOnceAsync(options)).Revision);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task CredentialsInTheUrlWorkAndAreNotLogged()
    {
        var sha = await bed.Repository.CommitAsync("one", ("index.html", "one"));
        bed.Origin.RequiredCredentials = ("me", "hunter2");
        var url = bed.Repository.Url.Replace("http://", "http://me:hunter2@", StringComparison.Ordinal);

        var result = await bed.SyncOnceAsync(bed.Options(o => o.Repo = url));

        Assert.Equal(sha, result.Revision);
        Assert.DoesNotContain("hunter2", RepositoryUrl.ForLogs(url));
        // The whole user-info goes: a token is often given as the user name.
        Assert.DoesNotContain("me@", RepositoryUrl.ForLogs(url));
        Assert.Equal(bed.Repository.Url, RepositoryUrl.ForLogs(url + "?access_token=abc"));
    }

    [Fact]
    public async Task ACredentialForTheUrlIsUsed()
    {
        var sha = await bed.Repository.CommitAsync("one", ("index.html", "one"));
        bed.Origin.RequiredCredentials = ("bot", "token");
        var parsed = GitSyncCommandLine.Parse(
            ["--repo", bed.Repository.Url, "--root", bed.Root.Path, "--link", "current", "--one-time",
             "--credential", $$"""{"url":"http://example.com","username":"other","password":"x"}""",
             "--credential", $$"""{"url":"{{bed.Origin.BaseUrl}}","username":"bot","password":"token"}"""],
            _ => null);
        Assert.Empty(parsed.Errors);

        var result = await bed.SyncOnceAsync(parsed.Options);

        Assert.Equal(sha, result.Revision);
    }
}
