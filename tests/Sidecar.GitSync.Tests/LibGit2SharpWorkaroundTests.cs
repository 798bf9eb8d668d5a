using LibGit2Sharp;
using LibGit2Sharp.Handlers;
using Sidecar.GitSync.Git;
using Sidecar.Tests;

namespace Sidecar.GitSync.Tests;

/// <summary>
/// The two places that reach into LibGit2Sharp's internals (<see cref="ShallowFetch"/>, <see cref="RemoteListing"/>) work
/// against a real smart-HTTP server, and the public gaps they fill are still there: when a LibGit2Sharp upgrade renames
/// an internal member these fail, and when it closes a gap they fail telling which workaround to delete.
/// </summary>
[Trait("Category", "InProcess")]
public sealed class LibGit2SharpWorkaroundTests : IAsyncLifetime
{
    private readonly TempFolder store = new("sidecar-libgit2sharp");
    private GitOrigin origin = null!;
    private OriginRepository repository = null!;
    private string head = "";

    public async Task InitializeAsync()
    {
        origin = await GitOrigin.StartAsync();
        repository = await origin.CreateRepositoryAsync();
        await repository.CommitAsync("one", ("index.html", "1"));
        head = await repository.CommitAsync("two", ("index.html", "2"));
    }

    public async Task DisposeAsync()
    {
        await origin.DisposeAsync();
        store.Dispose();
    }

    private Repository InitStore()
    {
        var repo = new Repository(Repository.Init(store.Path, isBare: true));
        repo.Network.Remotes.Add("origin", repository.Url);
        return repo;
    }

    [Fact]
    public void ShallowFetchFetchesOnlyTheCommitAskedFor()
    {
        using var repo = InitStore();

        ShallowFetch.Fetch(repo, "origin", ["+refs/heads/main:refs/heads/main"], new FetchOptions(), depth: 1);

        Assert.Equal(head, repo.Branches["main"].Tip.Sha);
        Assert.Equal(head, File.ReadAllText(Path.Combine(repo.Info.Path, "shallow")).Trim());
    }

    [Fact]
    public void PublicFetchStillIgnoresTheDepth()
    {
        using var repo = InitStore();

        Commands.Fetch(repo, "origin", ["+refs/heads/main:refs/heads/main"], new FetchOptions { Depth = 1 }, null);

        // When this fails, Commands.Fetch honours FetchOptions.Depth: call it directly and delete ShallowFetch's reflection.
        Assert.False(File.Exists(Path.Combine(repo.Info.Path, "shallow")), "Commands.Fetch now passes FetchOptions.Depth on: ShallowFetch can use it");
        Assert.Equal(2, repo.Branches["main"].Commits.Count());
    }

    [Fact]
    public void RemoteListingListsTheRefsWithEveryCallback()
    {
        using var repo = InitStore();
        var options = new FetchOptions { CertificateCheck = (_, _, _) => true };

        var references = RemoteListing.List(repo, repository.Url, options);

        Assert.Contains(references, r => r.CanonicalName == "refs/heads/main" && r.TargetIdentifier == head);
    }

    [Fact]
    public void PublicListingStillTakesNoCertificateCheck()
    {
        var parameters = typeof(Network).GetMethods()
            .Where(m => m.Name == nameof(Network.ListReferences))
            .SelectMany(m => m.GetParameters())
            .Select(p => p.ParameterType)
            .ToList();

        // When this fails, Network.ListReferences takes the certificate check: call it and delete RemoteListing.
        Assert.DoesNotContain(typeof(CertificateCheckHandler), parameters);
        Assert.DoesNotContain(typeof(FetchOptions), parameters);
    }
}
