using System.Collections.Concurrent;
using Sidecar.StaticWeb.Files;

namespace Sidecar.StaticWeb.Revisions;

/// <summary>
/// The files of one revision known to the server, keyed by request path, within a byte budget.
/// Entries are added until the budget is spent; the whole cache is dropped when its revision is retired.
/// </summary>
public sealed class RevisionCache(string revision, long capacityBytes)
{
    private readonly ConcurrentDictionary<string, FileEntry> entries = new(StringComparer.Ordinal);
    private long usedBytes;
    private volatile bool retired;

    public string Revision { get; } = revision;

    public long CapacityBytes { get; } = capacityBytes;

    public long UsedBytes => Interlocked.Read(ref usedBytes);

    public int Count => entries.Count;

    public bool IsRetired => retired;

    public bool TryGet(string requestPath, out FileEntry entry) => entries.TryGetValue(requestPath, out entry!);

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
        Interlocked.Exchange(ref usedBytes, 0);
    }
}
