using System.Collections.Concurrent;

namespace Sidecar.StaticWeb;

/// <summary>
/// The files of one revision known to the server, keyed by request path, within a byte budget.
/// Entries are added until the budget is spent; the whole cache is dropped when its revision is retired.
/// </summary>
public sealed class RevisionCache(string revision, long capacityBytes)
{
    private readonly ConcurrentDictionary<string, FileEntry> entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, FastResponse>.AlternateLookup<ReadOnlySpan<char>> fast =
        new ConcurrentDictionary<string, FastResponse>(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();
    private long usedBytes;
    private volatile bool retired;

    public string Revision { get; } = revision;

    public long CapacityBytes { get; } = capacityBytes;

    public long UsedBytes => Interlocked.Read(ref usedBytes);

    public int Count => entries.Count;

    public bool IsRetired => retired;

    public bool TryGet(string requestPath, out FileEntry entry) => entries.TryGetValue(requestPath, out entry!);

    /// <summary>The kept response of the fast path for this key (<see cref="FastPathRequest.WriteKey"/>).</summary>
    public bool TryGetFast(ReadOnlySpan<char> key, out FastResponse response) => fast.TryGetValue(key, out response!);

    public bool HasFast(string key) => fast.Dictionary.ContainsKey(key);

    /// <summary>Keeps a response for the fast path, its head charged to the budget (the body is the cached file's).</summary>
    public void AddFast(string key, FastResponse response)
    {
        if (!retired && TryReserve(response.Head.Length + key.Length * sizeof(char) + FastEntryOverheadBytes))
        {
            fast.Dictionary.TryAdd(key, response);
        }
    }

    // The dictionary node, key and record objects around a kept response.
    private const int FastEntryOverheadBytes = 128;

    /// <summary>Claims budget for something kept in memory; false when it would not fit (or the revision is retired).</summary>
    public bool TryReserve(long bytes)
    {
        if (retired || bytes > CapacityBytes)
        {
            return false;
        }
        var used = Interlocked.Read(ref usedBytes);
        while (true)
        {
            if (used + bytes > CapacityBytes)
            {
                return false;
            }
            var seen = Interlocked.CompareExchange(ref usedBytes, used + bytes, used);
            if (seen == used)
            {
                return true;
            }
            used = seen;
        }
    }

    public void Add(string requestPath, FileEntry entry)
    {
        if (!retired)
        {
            entries.TryAdd(requestPath, entry);
        }
    }

    /// <summary>Drops every entry; requests still serving this revision keep the entries they hold.</summary>
    public void Retire()
    {
        retired = true;
        entries.Clear();
        fast.Dictionary.Clear();
        Interlocked.Exchange(ref usedBytes, 0);
    }
}
