using LibGit2Sharp;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;
using LibGit2Sharp.Handlers;
using Sidecar.GitSync.CommandLine;

namespace Sidecar.GitSync.Git;

/// <summary>
/// A repository whose tree is being written: the superproject, or a submodule. Its gitlinks are
/// looked up in its <c>.gitmodules</c>, their URLs resolved against <see cref="Url"/>, and their object
/// stores kept under <see cref="ModulesDirectory"/>, as git keeps them (<c>.git/modules/NAME/modules/...</c>).
/// </summary>
public sealed record SubmoduleParent(Tree Tree, string Url, string ModulesDirectory, int Level, string DisplayPath);

/// <summary>A submodule's commit, found in its own object store, and what its own gitlinks resolve against.</summary>
public sealed record SubmoduleCheckout(GitModule Module, Repository Repository, Commit Commit, SubmoduleParent AsParent);

/// <summary>
/// The object stores of submodules, as <c>git submodule update --init</c> keeps them: one bare
/// repository per submodule, fetched with the sync's credentials and <c>--depth</c>. A gitlink's commit
/// is fetched by its id; when the remote refuses that, its branches and tags are fetched and the commit
/// looked up among them. Every failure is a <see cref="SyncException"/> naming the submodule, URL and commit.
/// </summary>
public sealed partial class SubmoduleStores(GitSyncOptions options, ILogger logger) : IDisposable
{
    private const string RemoteName = "origin";
    private const string FetchedRef = "refs/sidecar/fetched";

    // A submodule that contains itself (directly or not) would otherwise be written forever.
    private const int DeepestLevel = 16;

    private readonly Dictionary<string, Repository> stores = new(StringComparer.Ordinal);
    private readonly Dictionary<ObjectId, IReadOnlyList<GitModule>> modulesByTree = [];
    private readonly CredentialsHandler? credentials = GitCredentials.For(options);

    /// <summary>Finds (fetching it if needed) the commit the gitlink at <paramref name="path"/> of <paramref name="parent"/> names.</summary>
    public SubmoduleCheckout Checkout(SubmoduleParent parent, string path, ObjectId sha, CancellationToken cancellationToken)
    {
        var display = parent.DisplayPath.Length == 0 ? path : parent.DisplayPath + "/" + path;
        if (parent.Level >= DeepestLevel)
        {
            throw new SyncException($"the submodule at '{display}' is nested more than {DeepestLevel} levels deep (does a submodule contain itself?): give --submodules=shallow or fix the submodules");
        }
        var module = ModulesOf(parent, display).FirstOrDefault(m => m.Path.TrimEnd('/') == path)
            ?? throw new SyncException($"the submodule at '{display}' has no entry in .gitmodules: add [submodule \"NAME\"] with path = {path} and its url, or give --submodules=off");
        if (module.Url.Length == 0)
        {
            throw new SyncException($"submodule '{module.Name}' at '{display}' has no url in .gitmodules: add url = ... to its section");
        }
        if (module.Name.Split('/', '\\').Any(part => part is "" or "." or "..") || Path.IsPathRooted(module.Name))
        {
            throw new SyncException($"submodule name '{module.Name}' at '{display}' is not a safe folder name (empty parts, '.' or '..'): rename it in .gitmodules");
        }
        var url = GitModules.ResolveUrl(module.Url, parent.Url);
        // The URL libgit2 will fetch: url.BASE.insteadOf of --git-config rewrites it first, as git does.
        var fetched = options.GitConfigSettings.Rewrite(url);
        var scheme = GitConfigSettings.SchemeOf(fetched);
        if (!options.GitConfigSettings.SubmoduleProtocolAllowed(scheme))
        {
            // As git: a submodule is not "from the user", so file (default "user") and unknown protocols are refused.
            throw new SyncException(scheme == "file"
                ? $"submodule '{module.Name}' at '{display}' has the local URL '{fetched}', which git refuses for submodules by default (protocol.file.allow=user): give --git-config=protocol.file.allow:always to allow it, or serve the submodule over http(s)"
                : $"submodule '{module.Name}' at '{display}' has the URL '{RepositoryUrl.ForLogs(fetched)}', whose protocol '{scheme}' git does not allow for submodules: give --git-config=protocol.{scheme}.allow:always to allow it, or use an http(s) or ssh URL");
        }
        var ssh = scheme == "ssh";
        var gitDirectory = Path.Combine(parent.ModulesDirectory, module.Name);
        var repository = Open(gitDirectory, url);
        UseSsh(repository, ssh);
        var commit = repository.Lookup<Commit>(sha) ?? Fetch(repository, module, display, url, sha, ssh, scheme == "file", cancellationToken);
        return new SubmoduleCheckout(module, repository, commit,
            new SubmoduleParent(commit.Tree, url, Path.Combine(gitDirectory, "modules"), parent.Level + 1, display));
    }

    private IReadOnlyList<GitModule> ModulesOf(SubmoduleParent parent, string display)
    {
        if (!modulesByTree.TryGetValue(parent.Tree.Id, out var modules))
        {
            modules = parent.Tree[".gitmodules"]?.Target is Blob blob ? GitModules.Parse(blob.GetContentText()) : [];
            modulesByTree[parent.Tree.Id] = modules;
        }
        if (modules.Count == 0 && parent.Tree[".gitmodules"] is null)
        {
            throw new SyncException($"the submodule at '{display}' cannot be synced: its repository has no .gitmodules file naming its URL; add one, or give --submodules=off");
        }
        return modules;
    }

    // Opens the submodule's store, creating it afresh when it is missing or unreadable, with origin at the URL.
    private Repository Open(string gitDirectory, string url)
    {
        if (!stores.TryGetValue(gitDirectory, out var repository))
        {
            repository = TryOpen(gitDirectory);
            if (repository is null)
            {
                GitRepository.Wipe(gitDirectory);
                Directory.CreateDirectory(gitDirectory);
                Repository.Init(gitDirectory, isBare: true);
                repository = new Repository(gitDirectory);
            }
            stores[gitDirectory] = repository;
        }
        options.GitConfigSettings.ApplyTo(repository);
        var origin = repository.Network.Remotes[RemoteName];
        if (origin is null)
        {
            repository.Network.Remotes.Add(RemoteName, url);
        }
        else if (origin.Url != url)
        {
            repository.Network.Remotes.Update(RemoteName, r => r.Url = url);
        }
        return repository;
    }

    // An SSH submodule goes through the same ssh command (keys, known_hosts) as an SSH --repo: the script in ROOT/.git.
    private void UseSsh(Repository repository, bool ssh)
    {
        if (ssh)
        {
            File.Delete(Path.Combine(MainGitDirectory, SshTransport.MessagesName));
        }
        GitRepository.PointSshCommandAt(repository, ssh ? GitRepository.WriteSshScript(MainGitDirectory, options) : null);
    }

    private string MainGitDirectory => Path.Combine(options.Root, ".git");

    private static Repository? TryOpen(string gitDirectory)
    {
        try
        {
            return Directory.Exists(gitDirectory) && Repository.IsValid(gitDirectory) ? new Repository(gitDirectory) : null;
        }
        catch (LibGit2SharpException)
        {
            return null;
        }
    }

    private Commit Fetch(Repository repository, GitModule module, string display, string url, ObjectId sha, bool ssh, bool local, CancellationToken cancellationToken)
    {
        var shown = RepositoryUrl.ForLogs(url);
        var fetchOptions = new FetchOptions
        {
            TagFetchMode = TagFetchMode.None,
            CredentialsProvider = credentials,
            OnTransferProgress = _ => !cancellationToken.IsCancellationRequested,
            OnProgress = _ => !cancellationToken.IsCancellationRequested,
        };
        TransportSettings.Apply(fetchOptions, options);
        // Over SSH without the negotiation filter, all history, as for an SSH --repo (see GitRepository.EffectiveDepth).
        var depth = ssh && SshNegotiationFilter.Command is null ? 0 : options.Depth == 0 && repository.Info.IsShallow ? int.MaxValue : options.Depth;
        try
        {
            if (local)
            {
                // libgit2's local transport cannot fetch shallow; LocalFetch copies only the history --depth asks for.
                LocalFetch.Fetch(repository, url, sha.Sha, FetchedRef, options.Depth, cancellationToken);
            }
            else
            {
                ShallowFetch.Fetch(repository, RemoteName, [$"+{sha.Sha}:{FetchedRef}"], fetchOptions, depth);
            }
        }
        catch (LibGit2SharpException byId) when (!local)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // Servers that refuse a commit id in "want" still serve their branches and tags.
            LogFetchByIdFailed(sha.Sha, module.Name, byId.Message);
            try
            {
                ShallowFetch.Fetch(repository, RemoteName, ["+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"], fetchOptions, depth);
            }
            catch (LibGit2SharpException e)
            {
                var messages = ssh ? SshTransport.Messages(Path.Combine(MainGitDirectory, SshTransport.MessagesName)) : "";
                throw new SyncException(messages.Length > 0
                    ? $"submodule '{module.Name}' at '{display}': " + SshTransport.Explain(options, shown, messages, e.Message)
                    : $"submodule '{module.Name}' at '{display}' could not be fetched from '{shown}' ({e.Message}): check its url in .gitmodules and the credentials for it", e);
            }
        }
        cancellationToken.ThrowIfCancellationRequested();
        var commit = repository.Lookup<Commit>(sha)
            ?? throw new SyncException($"submodule '{module.Name}' at '{display}': commit {sha.Sha} was not found at '{shown}': push that commit to the submodule's remote, or commit a gitlink that names one it has");
        LogSubmoduleFetched(module.Name, display, sha.Sha, shown, options.Depth);
        return commit;
    }

    public void Dispose()
    {
        foreach (var repository in stores.Values)
        {
            repository.Dispose();
        }
        stores.Clear();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Fetching {Sha} of submodule {Name} by its id failed ({Error}); fetching its branches and tags")]
    private partial void LogFetchByIdFailed(string sha, string name, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Fetched submodule {Name} at {Path}: {Revision} from {Url} (depth {Depth})")]
    private partial void LogSubmoduleFetched(string name, string path, string revision, string url, int depth);
}
