using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.ExceptionServices;
using LibGit2Sharp;

namespace Sidecar.GitSync.Git;

/// <summary>
/// <c>git ls-remote</c> with a certificate check. LibGit2Sharp 0.32's <c>Network.ListReferences</c> passes only the
/// credentials callback, so <c>http.sslVerify=false</c> could not reach the ref listing; this does what it does with
/// every callback of <see cref="FetchOptions"/>, through the library's internal calls (named to the trimmer below).
/// </summary>
[UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "The LibGit2Sharp types are named as literals and kept by the DynamicDependency attributes.")]
[UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "The members are kept by the DynamicDependency attributes.")]
[UnconditionalSuppressMessage("Trimming", "IL2077", Justification = "The constructor is kept by the DynamicDependency attributes.")]
[UnconditionalSuppressMessage("Trimming", "IL2080", Justification = "The members are kept by the DynamicDependency attributes.")]
// Missing public API: Network.ListReferences takes no FetchOptions/CertificateCheckHandler (LibGit2SharpWorkaroundTests watches it).
internal static class RemoteListing
{
    private const BindingFlags Internal = BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static;
    private static readonly Assembly Library = typeof(Repository).Assembly;
    private static readonly Type Proxy = Library.GetType("LibGit2Sharp.Core.Proxy", throwOnError: true)!;
    private static readonly Type RemoteCallbacks = Library.GetType("LibGit2Sharp.RemoteCallbacks", throwOnError: true)!;
    private static readonly Type Direction = Library.GetType("LibGit2Sharp.Core.GitDirection", throwOnError: true)!;

    [DynamicDependency("git_remote_create_anonymous", "LibGit2Sharp.Core.Proxy", "LibGit2Sharp")]
    [DynamicDependency("git_remote_connect", "LibGit2Sharp.Core.Proxy", "LibGit2Sharp")]
    [DynamicDependency("git_remote_ls", "LibGit2Sharp.Core.Proxy", "LibGit2Sharp")]
    [DynamicDependency(DynamicallyAccessedMemberTypes.NonPublicConstructors | DynamicallyAccessedMemberTypes.NonPublicMethods, "LibGit2Sharp.RemoteCallbacks", "LibGit2Sharp")]
    [DynamicDependency(DynamicallyAccessedMemberTypes.NonPublicMethods, typeof(ProxyOptions))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.NonPublicProperties, typeof(Repository))]
    public static List<Reference> List(Repository repository, string url, FetchOptions options)
    {
        var handle = typeof(Repository).GetProperty("Handle", Internal)!.GetValue(repository);
        using var remote = (IDisposable)Invoke(Proxy.GetMethod("git_remote_create_anonymous", Internal)!, [handle, url])!;
        var callbacks = Activator.CreateInstance(RemoteCallbacks, Internal, null, [options], null)!;
        var native = RemoteCallbacks.GetMethod("GenerateCallbacks", Internal)!.Invoke(callbacks, null);
        var proxy = typeof(ProxyOptions).GetMethod("CreateGitProxyOptions", Internal)!.Invoke(options.ProxyOptions, null);
        // The fetch direction is libgit2's GIT_DIRECTION_FETCH, 0.
        Invoke(Proxy.GetMethod("git_remote_connect", Internal)!, [remote, Enum.ToObject(Direction, 0), native, proxy]);
        var references = ((IEnumerable<Reference>)Invoke(Proxy.GetMethod("git_remote_ls", Internal)!, [repository, remote])!).ToList();
        GC.KeepAlive(callbacks);
        return references;
    }

    private static object? Invoke(MethodInfo method, object?[] arguments)
    {
        try
        {
            return method.Invoke(null, arguments);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            // The library's own exception, with its stack trace, not the reflection wrapper.
            ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
    }
}
