using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.ExceptionServices;
using LibGit2Sharp;

namespace Sidecar.GitSync.Git;

/// <summary>
/// What <see cref="RemoteListing"/> and <see cref="ShallowFetch"/> both reach inside LibGit2Sharp 0.32, where its public
/// API falls short: the native repository handle, the native form of <see cref="FetchOptions"/>' callbacks, and calls
/// into its <c>Proxy</c> that throw the library's own exceptions. Each caller names the members it uses to the trimmer.
/// </summary>
[UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "The LibGit2Sharp types are named as literals and kept by the callers' DynamicDependency attributes.")]
[UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "The members are kept by the callers' DynamicDependency attributes.")]
[UnconditionalSuppressMessage("Trimming", "IL2077", Justification = "The constructors are kept by the callers' DynamicDependency attributes.")]
[UnconditionalSuppressMessage("Trimming", "IL2080", Justification = "The members are kept by the callers' DynamicDependency attributes.")]
internal static class LibGit2Internals
{
    public const BindingFlags Internal = BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static;
    private static readonly Assembly Library = typeof(Repository).Assembly;
    private static readonly Type Proxy = Type("LibGit2Sharp.Core.Proxy");
    private static readonly Type RemoteCallbacks = Type("LibGit2Sharp.RemoteCallbacks");
    private static readonly PropertyInfo RepositoryHandle = typeof(Repository).GetProperty("Handle", Internal)!;

    public static Type Type(string name) => Library.GetType(name, throwOnError: true)!;

    public static MethodInfo ProxyMethod(string name) => Proxy.GetMethod(name, Internal)
        ?? throw new MissingMethodException(Proxy.FullName, name);

    public static object Handle(Repository repository) => RepositoryHandle.GetValue(repository)!;

    /// <summary>
    /// The native callbacks for <paramref name="options"/>, and the managed object that owns them, which must stay
    /// alive (<see cref="GC.KeepAlive"/>) until libgit2 has made its last call.
    /// </summary>
    public static (object Native, object Owner) Callbacks(FetchOptions options)
    {
        var owner = Activator.CreateInstance(RemoteCallbacks, Internal, null, [options], null)!;
        return (RemoteCallbacks.GetMethod("GenerateCallbacks", Internal)!.Invoke(owner, null)!, owner);
    }

    /// <summary>Calls a static internal method; a failure throws the library's own exception, with its stack trace.</summary>
    public static object? Invoke(MethodInfo method, object?[] arguments)
    {
        try
        {
            return method.Invoke(null, arguments);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
    }
}
