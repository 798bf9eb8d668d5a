using System.Text.RegularExpressions;
using LibGit2Sharp;
using LibGit2Sharp.Handlers;
using Sidecar.GitSync.CommandLine;

namespace Sidecar.GitSync.Git;

/// <summary>
/// What <c>--ref</c> names on the remote: the commit it points at now, the remote ref to fetch it by, and for an
/// annotated tag the tag object (whose signature <c>--verify-signatures</c> checks).
/// </summary>
public sealed record RemoteRevision(string Sha, string RemoteRef, string? TagObject = null);

/// <summary>
/// The object store at <c>ROOT/.git</c>: a bare repository with one remote, <c>origin</c>. It asks the
/// remote what a ref points at (as <c>git ls-remote</c>) and fetches just that commit (as <c>git fetch --depth</c>).
/// </summary>
public sealed partial class GitRepository : IDisposable
{
    private const string RemoteName = "origin";
    private const string FetchedRef = "refs/sidecar/fetched";

    private readonly Repository repository;
    private readonly CredentialsHandler? credentials;
    private GitSyncOptions? sshOptions;
    private readonly bool localTransport;

    private GitRepository(Repository repository, CredentialsHandler? credentials, bool localTransport)
    {
        this.repository = repository;
        this.credentials = credentials;
        this.localTransport = localTransport;
    }

    /// <summary>A local path or file:// URL: fetched by <see cref="LocalFetch"/>, as libgit2's local transport cannot fetch shallow.</summary>
    public static bool IsLocal(string url) =>
        url.StartsWith("file://", StringComparison.OrdinalIgnoreCase) || (!url.Contains("://", StringComparison.Ordinal) && !SshTransport.IsSsh(url));

    public string GitDirectory => repository.Info.Path;

    /// <summary>Applied to each fetch's options: the transport settings of <c>--git-config</c> libgit2 does not read itself.</summary>
    public Action<FetchOptions>? ConfigureFetch { get; set; }

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex FullSha();

    /// <summary>
    /// Opens <c>ROOT/.git</c>, creating it if missing and creating it afresh if it is corrupt or half-written
    /// (the snapshots do not depend on it), and points <c>origin</c> at <paramref name="url"/>.
    /// </summary>
    public static GitRepository Open(string root, string url, CredentialsHandler? credentials = null, Action<string>? repaired = null)
    {
        var gitDirectory = Path.Combine(root, ".git");
        Repository repository;
        if (TryOpen(gitDirectory) is { } opened)
        {
            repository = opened;
        }
        else
        {
            if (Directory.Exists(gitDirectory) || File.Exists(gitDirectory))
            {
                repaired?.Invoke(gitDirectory);
                Wipe(gitDirectory);
            }
            Directory.CreateDirectory(gitDirectory);
            Repository.Init(gitDirectory, isBare: true);
            repository = new Repository(gitDirectory);
        }
        var origin = repository.Network.Remotes[RemoteName];
        if (origin is null)
        {
            repository.Network.Remotes.Add(RemoteName, url);
        }
        else if (origin.Url != url)
        {
            repository.Network.Remotes.Update(RemoteName, r => r.Url = url);
        }
        return new GitRepository(repository, credentials, IsLocal(url));
    }

    /// <summary>Removes the object store so the next open starts afresh.</summary>
    public static void Wipe(string gitDirectory)
    {
        if (File.Exists(gitDirectory))
        {
            File.Delete(gitDirectory);
        }
        else if (Directory.Exists(gitDirectory))
        {
            Directory.Delete(gitDirectory, recursive: true);
        }
    }

    // A store counts as sound when libgit2 opens it and can read its config and object database.
    private static Repository? TryOpen(string gitDirectory)
    {
        if (!Directory.Exists(gitDirectory))
        {
            return null;
        }
        Repository? repository = null;
        try
        {
            if (!Repository.IsValid(gitDirectory))
            {
                return null;
            }
            repository = new Repository(gitDirectory);
            _ = repository.Config.Get<string>("core.bare");
            _ = repository.Network.Remotes[RemoteName];
            if (repository.Refs[FetchedRef] is { } fetched)
            {
                _ = repository.Lookup<Commit>(fetched.TargetIdentifier)?.Tree.Count;
            }
            return repository;
        }
        catch (LibGit2SharpException)
        {
            repository?.Dispose();
            return null;
        }
    }

    /// <summary>Asks the remote which commit <paramref name="gitRef"/> names now, without fetching anything.</summary>
    public RemoteRevision ResolveRemote(string gitRef)
    {
        if (FullSha().IsMatch(gitRef))
        {
            return new RemoteRevision(gitRef, gitRef);
        }
        var remote = repository.Network.Remotes[RemoteName];
        List<Reference> advertised;
        try
        {
            var listing = new FetchOptions { CredentialsProvider = credentials };
            ConfigureFetch?.Invoke(listing);
            // Network.ListReferences takes no certificate check; only a configured one needs the fuller listing.
            advertised = listing.CertificateCheck is not null ? RemoteListing.List(repository, remote.Url, listing)
                : (credentials is null ? repository.Network.ListReferences(remote) : repository.Network.ListReferences(remote, credentials)).ToList();
        }
        catch (LibGit2SharpException e) when ((SshFailure(e) ?? Explain(e, remote.Url)) is { } explained)
        {
            throw new SyncException(explained, e);
        }
        string Peeled(Reference reference) => reference.ResolveToDirectReference()?.TargetIdentifier ?? reference.TargetIdentifier;

        if (gitRef == "HEAD")
        {
            var head = advertised.FirstOrDefault(r => r.CanonicalName == "HEAD")
                ?? throw new SyncException($"the remote advertises no HEAD: set --ref to a branch or tag name");
            var target = head is SymbolicReference symbolic ? symbolic.TargetIdentifier : "HEAD";
            var sha = advertised.FirstOrDefault(r => r.CanonicalName == target) is { } branch ? Peeled(branch) : Peeled(head);
            return new RemoteRevision(sha, target);
        }

        string[] candidates = gitRef.StartsWith("refs/", StringComparison.Ordinal)
            ? [gitRef]
            : ["refs/heads/" + gitRef, "refs/tags/" + gitRef];
        foreach (var candidate in candidates)
        {
            // An annotated tag is advertised twice: the tag object, then "^{}" with the commit it names.
            var peeled = advertised.FirstOrDefault(r => r.CanonicalName == candidate + "^{}");
            var direct = advertised.FirstOrDefault(r => r.CanonicalName == candidate);
            if (direct is not null)
            {
                return new RemoteRevision(peeled?.TargetIdentifier ?? Peeled(direct), candidate, peeled is null ? null : direct.TargetIdentifier);
            }
        }
        // git's own words ride along, for tools that grep git-sync's error file for them.
        throw new SyncException(
            $"--ref '{gitRef}' was not found on the remote (git: couldn't find remote ref {gitRef}): give a branch or tag that exists there, a full 40-character commit SHA, or HEAD");
    }

    /// <summary>Fetches <paramref name="revision"/> with the given depth (0 = all history) and returns its commit.</summary>
    public Commit Fetch(RemoteRevision revision, int depth, CancellationToken cancellationToken = default)
    {
        depth = EffectiveDepth(depth);
        if (repository.Lookup<Commit>(revision.Sha) is { } known && (depth > 0 || !repository.Info.IsShallow || !FetchesShallow)
            && (revision.TagObject is null || repository.Lookup<TagAnnotation>(revision.TagObject) is not null))
        {
            if (localTransport && depth > 0)
            {
                // As git fetch --depth on a commit it has: the history beyond the depth is cut, so gc can drop it.
                LocalFetch.Fetch(repository, repository.Network.Remotes[RemoteName].Url, revision.Sha, FetchedRef, depth, cancellationToken);
            }
            else
            {
                // The ref names what is published now, so it no longer keeps a newer commit from gc.
                repository.Refs.Add(FetchedRef, known.Id, allowOverwrite: true);
            }
            return known;
        }
        // libgit2 turns "all history" into "unshallow" only when asked with its largest depth.
        var effectiveDepth = depth == 0 && repository.Info.IsShallow && FetchesShallow ? int.MaxValue : depth;
        var fetchOptions = new FetchOptions
        {
            TagFetchMode = TagFetchMode.None,
            CredentialsProvider = credentials,
            OnTransferProgress = _ => !cancellationToken.IsCancellationRequested,
            OnProgress = _ => !cancellationToken.IsCancellationRequested,
        };
        ConfigureFetch?.Invoke(fetchOptions);
        try
        {
            if (localTransport)
            {
                LocalFetch.Fetch(repository, repository.Network.Remotes[RemoteName].Url, revision.Sha, FetchedRef, depth, cancellationToken);
            }
            else
            {
                ShallowFetch.Fetch(repository, RemoteName, [$"+{revision.RemoteRef}:{FetchedRef}"], fetchOptions, effectiveDepth);
            }
        }
        catch (LibGit2SharpException e) when (SshFailure(e) is { } explained)
        {
            throw new SyncException(explained, e);
        }
        catch (LibGit2SharpException e) when (FullSha().IsMatch(revision.RemoteRef) && !localTransport)
        {
            // libgit2 speaks protocol v0, where a server with default settings refuses a want of a commit it did not
            // advertise ("not our ref"); git fetches the same commit with protocol v2. So fetch it by what is advertised.
            return FetchThroughAdvertisedRefs(revision.Sha, depth, fetchOptions, e, cancellationToken);
        }
        catch (NotFoundException e)
        {
            // The remote has the ref (it was just listed), so the missing object is ours: a commit whose parent the
            // store lacks without a shallow mark, left by a crash mid-fetch. Not a NotFoundException any more, so the
            // sync repairs the store (GitSynchronizer.SyncCore).
            throw new LibGit2SharpException($"the object store is missing history the fetch walks ({e.Message})", e);
        }
        cancellationToken.ThrowIfCancellationRequested();
        return repository.Lookup<Commit>(revision.Sha)
            ?? throw new SyncException($"the remote sent no commit {revision.Sha} for '{revision.RemoteRef}'");
    }

    private const string SearchRefs = "refs/sidecar/search/";

    /// <summary>
    /// A commit the server would not send by its id: fetched by the branch or tag whose tip it is (at the depth asked),
    /// else with the whole history of every branch and tag, which must then hold it (as git-sync requires of a SHA).
    /// </summary>
    private Commit FetchThroughAdvertisedRefs(string sha, int depth, FetchOptions fetchOptions, LibGit2SharpException refused, CancellationToken cancellationToken)
    {
        var remote = repository.Network.Remotes[RemoteName];
        var advertised = (credentials is null ? repository.Network.ListReferences(remote) : repository.Network.ListReferences(remote, credentials)).ToList();
        // An annotated tag's commit is advertised as "NAME^{}"; the ref to fetch is NAME.
        var tip = advertised
            .Where(r => r.CanonicalName.StartsWith("refs/heads/", StringComparison.Ordinal) || r.CanonicalName.StartsWith("refs/tags/", StringComparison.Ordinal))
            .FirstOrDefault(r => r.TargetIdentifier == sha);
        try
        {
            if (tip is not null)
            {
                var name = tip.CanonicalName.EndsWith("^{}", StringComparison.Ordinal) ? tip.CanonicalName[..^3] : tip.CanonicalName;
                ShallowFetch.Fetch(repository, RemoteName, [$"+{name}:{FetchedRef}"], fetchOptions, depth);
            }
            else
            {
                // Reachable, not a tip: only all history shows it; a shallow store is deepened to all of it.
                ShallowFetch.Fetch(repository, RemoteName, [$"+refs/heads/*:{SearchRefs}heads/*", $"+refs/tags/*:{SearchRefs}tags/*"],
                    fetchOptions, IsShallow ? int.MaxValue : 0);
            }
        }
        finally
        {
            foreach (var reference in repository.Refs.Where(r => r.CanonicalName.StartsWith(SearchRefs, StringComparison.Ordinal)).ToList())
            {
                repository.Refs.Remove(reference);
            }
        }
        cancellationToken.ThrowIfCancellationRequested();
        if (repository.Lookup<Commit>(sha) is not { } commit)
        {
            throw new SyncException($"--ref {sha} could not be fetched ({refused.Message}), and no branch or tag of the remote reaches it: give a commit that exists on the remote and is reachable from one of its branches or tags", refused);
        }
        repository.Refs.Add(FetchedRef, commit.Id, allowOverwrite: true);
        return commit;
    }

    /// <summary>
    /// For an SSH <c>--repo</c>, writes the ssh script (see <see cref="SshTransport"/>) and points <c>core.sshCommand</c>
    /// at it, so each start follows its own flags; for any other repo, removes them.
    /// </summary>
    public void ConfigureSsh(GitSyncOptions options)
    {
        // Messages of an earlier sync must not be taken for this one's.
        File.Delete(Path.Combine(GitDirectory, SshTransport.MessagesName));
        if (!SshTransport.IsSsh(options.Repo))
        {
            sshOptions = null;
            File.Delete(Path.Combine(GitDirectory, SshTransport.ScriptName));
            PointSshCommandAt(repository, null);
            return;
        }
        PointSshCommandAt(repository, WriteSshScript(GitDirectory, options));
        sshOptions = options;
    }

    /// <summary>Sets the store's <c>core.sshCommand</c> to <paramref name="script"/> (null removes it), writing only on a change.</summary>
    public static void PointSshCommandAt(Repository store, string? script)
    {
        var configured = store.Config.Get<string>("core.sshCommand", ConfigurationLevel.Local)?.Value;
        if (configured == script)
        {
            return;
        }
        if (script is null)
        {
            store.Config.Unset("core.sshCommand", ConfigurationLevel.Local);
        }
        else
        {
            store.Config.Set("core.sshCommand", script, ConfigurationLevel.Local);
        }
    }

    /// <summary>
    /// Writes the ssh script the SSH flags make into <paramref name="gitDirectory"/> (unless it is already there as it
    /// should be) and returns its path; submodule stores with SSH URLs point their <c>core.sshCommand</c> at it too.
    /// </summary>
    public static string WriteSshScript(string gitDirectory, GitSyncOptions options)
    {
        var script = Path.Combine(gitDirectory, SshTransport.ScriptName);
        var content = SshTransport.Script(options, Path.Combine(gitDirectory, SshTransport.MessagesName));
        if (!File.Exists(script) || File.ReadAllText(script) != content)
        {
            File.WriteAllText(script, content);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                    | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            }
        }
        return script;
    }

    // ssh's own words (or libgit2's, when the script could not be run), with the fix they point to. Other failures,
    // such as a broken local store, are left to the callers' handling.
    private string? SshFailure(LibGit2SharpException e)
    {
        if (sshOptions is not { } options)
        {
            return null;
        }
        var messages = SshTransport.Messages(Path.Combine(GitDirectory, SshTransport.MessagesName));
        return messages.Length > 0 || e.Message.StartsWith("cannot run", StringComparison.Ordinal)
            ? SshTransport.Explain(options, RepositoryUrl.ForLogs(options.Repo), messages, e.Message)
            : null;
    }

    // libgit2's words for the failures a user fixes, turned into the fix. The URL is shown without its password.
    private static string? Explain(LibGit2SharpException e, string url)
    {
        var shown = RepositoryUrl.ForLogs(url);
        if (e.Message.Contains("authentication", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("401", StringComparison.Ordinal))
        {
            return $"the remote '{shown}' refused the credentials ({e.Message}; git: Authentication failed for '{shown}'): check --username with $GITSYNC_PASSWORD or --password-file, --credential, or the user in the URL";
        }
        if (e.Message.StartsWith("http parser error", StringComparison.Ordinal))
        {
            // libgit2 1.8 reads a response body only when the response has a Content-Type or is chunked (docs/gitsync.md#fetching).
            return $"the server of '{shown}' sent a response this build's libgit2 misreads ({e.Message}): most likely a 401 whose body has a Content-Length but no Content-Type; have the server, or a proxy in front of it, send a Content-Type with every body";
        }
        if (e.Message.Contains("404", StringComparison.Ordinal))
        {
            return $"--repo '{shown}' was not found on the server (HTTP 404; git: repository '{shown}' not found): check the URL";
        }
        return null;
    }

    /// <summary>
    /// The depth a fetch really uses. libgit2 1.8 (in LibGit2Sharp 0.32) sends its wants a second time after the
    /// shallow exchange, which upload-pack on ssh's stateful connection refuses; the ssh script's
    /// <see cref="SshNegotiationFilter"/> drops the repeat. Without that filter (no sidecar executable to run it), a
    /// fetch over ssh takes all history. A local repository (a path or file://) is fetched by <see cref="LocalFetch"/>.
    /// </summary>
    public int EffectiveDepth(int depth) => FetchesShallow ? depth : 0;

    // Whether this transport can fetch (and deepen) a shallow history at all.
    private bool FetchesShallow => sshOptions is null || SshNegotiationFilter.Command is not null;

    /// <summary>Why <see cref="EffectiveDepth"/> fetches all history, for the log.</summary>
    public string FullHistoryReason => "SSH without the Sidecar.GitSync executable to run its negotiation filter (libgit2 1.8)";

    /// <summary>The commit <paramref name="sha"/> if the object store holds it.</summary>
    public Commit? FindCommit(string sha) => repository.Lookup<Commit>(sha);

    public bool IsShallow => File.Exists(Path.Combine(GitDirectory, "shallow"));

    /// <summary>The LibGit2Sharp repository, for reading objects (signature verification).</summary>
    public Repository ObjectStore => repository;

    public void Dispose() => repository.Dispose();
}

/// <summary>A sync failed for a reason the user can act on; the message names the value and the fix.</summary>
public sealed class SyncException(string message, Exception? inner = null) : Exception(message, inner);
