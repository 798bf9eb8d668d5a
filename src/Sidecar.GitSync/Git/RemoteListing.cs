using System.Diagnostics.CodeAnalysis;
using LibGit2Sharp;

namespace Sidecar.GitSync.Git;

/// <summary>
/// <c>git ls-remote</c> with a certificate check. LibGit2Sharp 0.32's <c>Network.ListReferences</c> passes only the
/// credentials callback, so <c>http.sslVerify=false</c> could not reach the ref listing; this does what it does with
/// every callback of <see cref="FetchOptions"/>, through the library's internal calls (named to the trimmer below).
/// </summary>
[UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "The members are kept by the DynamicDependency attributes.")]
// Missing public API: Network.ListReferences takes no FetchOptions/CertificateCheckHandler (LibGit2SharpWorkaroundTests watches it).
internal static class RemoteListing
{
    private static readonly Type Direction = LibGit2Internals.Type("LibGit2Sharp.Core.GitDirection");

    [DynamicDependency("git_remote_create_anonymous", "LibGit2Sharp.Core.Proxy", "LibGit2Sharp")]
    [DynamicDependency("git_remote_connect", "LibGit2Sharp.Core.Proxy", "LibGit2Sharp")]
    [DynamicDependency("git_remote_ls", "LibGit2Sharp.Core.Proxy", "LibGit2Sharp")]
    [DynamicDependency(DynamicallyAccessedMemberTypes.NonPublicConstructors | DynamicallyAccessedMemberTypes.NonPublicMethods, "LibGit2Sharp.RemoteCallbacks", "LibGit2Sharp")]
    [DynamicDependency(DynamicallyAccessedMemberTypes.NonPublicMethods, typeof(ProxyOptions))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.NonPublicProperties, typeof(Repository))]
    public static List<Reference> List(Repository repository, string url, FetchOptions options)
    {
        using var remote = (IDisposable)LibGit2Internals.Invoke(LibGit2Internals.ProxyMethod("git_remote_create_anonymous"),
            [LibGit2Internals.Handle(repository), url])!;
        var callbacks = LibGit2Internals.Callbacks(options);
        var proxy = typeof(ProxyOptions).GetMethod("CreateGitProxyOptions", LibGit2Internals.Internal)!.Invoke(options.ProxyOptions, null);
        // The fetch direction is libgit2's GIT_DIRECTION_FETCH, 0.
        LibGit2Internals.Invoke(LibGit2Internals.ProxyMethod("git_remote_connect"), [remote, Enum.ToObject(Direction, 0), callbacks.Native, proxy]);
        var references = ((IEnumerable<Reference>)LibGit2Internals.Invoke(LibGit2Internals.ProxyMethod("git_remote_ls"), [repository, remote])!).ToList();
        GC.KeepAlive(callbacks.Owner);
        return references;
    }
}
