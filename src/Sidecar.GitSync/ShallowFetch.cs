using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using LibGit2Sharp;

namespace Sidecar.GitSync;

/// <summary>
/// A fetch that honours <see cref="FetchOptions.Depth"/>. LibGit2Sharp 0.32's <c>Commands.Fetch</c>
/// drops the depth (only <c>Repository.Clone</c> passes it on), so this does what
/// <c>Commands.Fetch</c> does with the depth set, through the library's internal fetch call.
/// The internal members it reaches are named to the trimmer below, so a Native AOT build keeps them.
/// </summary>
[UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "The LibGit2Sharp types are named as literals and kept by the DynamicDependency attributes.")]
[UnconditionalSuppressMessage("Trimming", "IL2077", Justification = "The constructors are kept by the DynamicDependency attributes.")]
[UnconditionalSuppressMessage("Trimming", "IL2080", Justification = "The members are kept by the DynamicDependency attributes.")]
internal static class ShallowFetch
{
    private const BindingFlags Internal = BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static;
    private static readonly Assembly Library = typeof(Repository).Assembly;
    private static readonly Type Proxy = Type("LibGit2Sharp.Core.Proxy");
    private static readonly Type OptionsWrapper = Type("LibGit2Sharp.Core.GitFetchOptionsWrapper");
    private static readonly Type GitFetchOptions = Type("LibGit2Sharp.Core.GitFetchOptions");
    private static readonly Type GitProxyOptions = Type("LibGit2Sharp.Core.GitProxyOptions");
    private static readonly Type RemoteCallbacks = Type("LibGit2Sharp.RemoteCallbacks");
    private static readonly PropertyInfo RepositoryHandle = typeof(Repository).GetProperty("Handle", Internal)!;
    private static readonly MethodInfo RemoteLookup = Proxy.GetMethod("git_remote_lookup", Internal)!;
    private static readonly MethodInfo RemoteFetch = Proxy.GetMethod("git_remote_fetch", Internal)!;

    [DynamicDependency("git_remote_lookup", "LibGit2Sharp.Core.Proxy", "LibGit2Sharp")]
    [DynamicDependency("git_remote_fetch", "LibGit2Sharp.Core.Proxy", "LibGit2Sharp")]
    [DynamicDependency(DynamicallyAccessedMemberTypes.All, "LibGit2Sharp.Core.GitFetchOptionsWrapper", "LibGit2Sharp")]
    [DynamicDependency(DynamicallyAccessedMemberTypes.All, "LibGit2Sharp.Core.GitFetchOptions", "LibGit2Sharp")]
    [DynamicDependency(DynamicallyAccessedMemberTypes.All, "LibGit2Sharp.Core.GitProxyOptions", "LibGit2Sharp")]
    [DynamicDependency(DynamicallyAccessedMemberTypes.NonPublicConstructors | DynamicallyAccessedMemberTypes.NonPublicMethods, "LibGit2Sharp.RemoteCallbacks", "LibGit2Sharp")]
    [DynamicDependency(DynamicallyAccessedMemberTypes.NonPublicProperties, typeof(Repository))]
    public static void Fetch(Repository repository, string remoteName, IEnumerable<string> refspecs, FetchOptions options, int depth)
    {
        if (depth <= 0)
        {
            Commands.Fetch(repository, remoteName, refspecs, options, null);
            return;
        }

        using var remote = (IDisposable)RemoteLookup.Invoke(null, [RepositoryHandle.GetValue(repository), remoteName, true])!;
        using var wrapper = (IDisposable)Activator.CreateInstance(OptionsWrapper, nonPublic: true)!;
        var native = OptionsWrapper.GetProperty("Options", Internal)!.GetValue(wrapper)!;

        var callbacks = Activator.CreateInstance(RemoteCallbacks, Internal, null, [options], null)!;
        Field("RemoteCallbacks").SetValue(native, RemoteCallbacks.GetMethod("GenerateCallbacks", Internal)!.Invoke(callbacks, null));
        Field("download_tags").SetValue(native, options.TagFetchMode ?? TagFetchMode.None);
        Field("Prune").SetValue(native, Enum.ToObject(Field("Prune").FieldType, options.Prune == true ? 1 : 2));
        var proxyOptions = Activator.CreateInstance(GitProxyOptions)!;
        GitProxyOptions.GetField("Version", Internal)!.SetValue(proxyOptions, 1u);
        Field("ProxyOptions").SetValue(native, proxyOptions);
        Field("Depth").SetValue(native, depth);

        try
        {
            RemoteFetch.Invoke(null, [remote, refspecs, native, null]);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
        GC.KeepAlive(callbacks);
    }

    private static FieldInfo Field(string name) => GitFetchOptions.GetField(name, Internal)
        ?? throw new MissingFieldException(GitFetchOptions.FullName, name);

    private static Type Type(string name) => Library.GetType(name, throwOnError: true)!;
}
