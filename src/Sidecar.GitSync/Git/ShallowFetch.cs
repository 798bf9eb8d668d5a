using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using LibGit2Sharp;

namespace Sidecar.GitSync.Git;

/// <summary>
/// A fetch that honours <see cref="FetchOptions.Depth"/>. LibGit2Sharp 0.32's <c>Commands.Fetch</c>
/// drops the depth (only <c>Repository.Clone</c> passes it on), so this does what
/// <c>Commands.Fetch</c> does with the depth set, through the library's internal fetch call.
/// The internal members it reaches are named to the trimmer below, so a Native AOT build keeps them.
/// </summary>
[UnconditionalSuppressMessage("Trimming", "IL2077", Justification = "The constructors are kept by the DynamicDependency attributes.")]
[UnconditionalSuppressMessage("Trimming", "IL2080", Justification = "The members are kept by the DynamicDependency attributes.")]
// Missing public API: Commands.Fetch does not pass FetchOptions.Depth to git_remote_fetch (LibGit2SharpWorkaroundTests watches it).
internal static class ShallowFetch
{
    private const BindingFlags Internal = LibGit2Internals.Internal;
    private static readonly Type OptionsWrapper = LibGit2Internals.Type("LibGit2Sharp.Core.GitFetchOptionsWrapper");
    private static readonly Type GitFetchOptions = LibGit2Internals.Type("LibGit2Sharp.Core.GitFetchOptions");
    private static readonly Type GitProxyOptions = LibGit2Internals.Type("LibGit2Sharp.Core.GitProxyOptions");
    private static readonly MethodInfo RemoteLookup = LibGit2Internals.ProxyMethod("git_remote_lookup");
    private static readonly MethodInfo RemoteFetch = LibGit2Internals.ProxyMethod("git_remote_fetch");

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
        var marks = Path.Combine(repository.Info.Path, "shallow");
        var before = ReadMarks(marks);
        FetchWithDepth(repository, remoteName, refspecs, options, depth);
        if (depth != int.MaxValue)
        {
            KeepEarlierMarks(repository, marks, before);
        }
    }

    /// <summary>
    /// libgit2 1.8 rewrites <c>.git/shallow</c> with the boundary of the last fetch only; git keeps every mark. A
    /// commit of an earlier fetch whose parent was never fetched would then look whole, and any walk through it (gc
    /// from a kept snapshot, or the next negotiation when a crash left a ref on it) fails with "object not found".
    /// So the marks the fetch dropped go back, for each such commit that is still in the store and still lacks a
    /// parent (a deepening fetch that brought the parents leaves them off).
    /// </summary>
    private static void KeepEarlierMarks(Repository repository, string marks, HashSet<string> before)
    {
        var after = ReadMarks(marks);
        var dropped = before.Where(sha => !after.Contains(sha)).ToList();
        if (dropped.Count == 0)
        {
            return;
        }
        // A store opened afresh: this one may hold the dropped commits parsed with the old marks (no parents).
        using var probe = new Repository(repository.Info.Path);
        var boundary = dropped
            .Where(sha => probe.Lookup<Commit>(sha) is { } commit && commit.Parents.Any(parent => !probe.ObjectDatabase.Contains(parent.Id)))
            .ToList();
        if (boundary.Count == 0)
        {
            return;
        }
        var temporary = marks + ".sidecar";
        File.WriteAllLines(temporary, after.Concat(boundary).Order(StringComparer.Ordinal));
        File.Move(temporary, marks, overwrite: true);
    }

    private static HashSet<string> ReadMarks(string marks) => File.Exists(marks)
        ? File.ReadLines(marks).Select(line => line.Trim()).Where(line => line.Length > 0).ToHashSet(StringComparer.Ordinal)
        : [];

    private static void FetchWithDepth(Repository repository, string remoteName, IEnumerable<string> refspecs, FetchOptions options, int depth)
    {

        using var remote = (IDisposable)LibGit2Internals.Invoke(RemoteLookup, [LibGit2Internals.Handle(repository), remoteName, true])!;
        using var wrapper = (IDisposable)Activator.CreateInstance(OptionsWrapper, nonPublic: true)!;
        var native = OptionsWrapper.GetProperty("Options", Internal)!.GetValue(wrapper)!;

        var callbacks = LibGit2Internals.Callbacks(options);
        Field("RemoteCallbacks").SetValue(native, callbacks.Native);
        Field("download_tags").SetValue(native, options.TagFetchMode ?? TagFetchMode.None);
        Field("Prune").SetValue(native, Enum.ToObject(Field("Prune").FieldType, options.Prune == true ? 1 : 2));
        var proxyOptions = Activator.CreateInstance(GitProxyOptions)!;
        GitProxyOptions.GetField("Version", Internal)!.SetValue(proxyOptions, 1u);
        // As Commands.Fetch: the proxy libgit2 finds itself (http.proxy, remote.origin.proxy, $https_proxy), not none.
        var proxyType = GitProxyOptions.GetField("Type", Internal)!;
        proxyType.SetValue(proxyOptions, Enum.ToObject(proxyType.FieldType, (int)options.ProxyOptions.ProxyType));
        Field("ProxyOptions").SetValue(native, proxyOptions);
        Field("Depth").SetValue(native, depth);

        LibGit2Internals.Invoke(RemoteFetch, [remote, refspecs, native, null]);
        GC.KeepAlive(callbacks.Owner);
    }

    private static FieldInfo Field(string name) => GitFetchOptions.GetField(name, Internal)
        ?? throw new MissingFieldException(GitFetchOptions.FullName, name);
}
