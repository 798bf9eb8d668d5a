using System.Diagnostics;
using Microsoft.Extensions.Options;
using Sidecar.StaticWeb.Settings;
using Sidecar.StaticWeb.Telemetry;

namespace Sidecar.StaticWeb.Revisions;

/// <summary>
/// Knows which revision is served and owns its cache. A switch is noticed by the first request
/// that resolves the link to a new target, or announced by the sidecar's webhook; either way it is
/// logged, traced as a "revision switch" span, counted, and the retired revision's cache is dropped.
/// </summary>
public sealed partial class RevisionTracker(
    ContentRoot contentRoot,
    IOptions<StaticWebOptions> options,
    StaticWebTelemetry telemetry,
    ILogger<RevisionTracker> logger)
{
    private readonly long capacity = options.Value.CacheSizeBytes;
    private readonly Lock gate = new();
    private volatile RevisionCache current = new("", 0);

    /// <summary>The revision served now ("" before the first request or announcement).</summary>
    public RevisionCache Current => current;

    /// <summary>The cache for the revision a request resolved; switches to it when the link still names it.</summary>
    public RevisionCache CacheFor(ResolvedRoot root)
    {
        var cache = current;
        if (string.Equals(cache.Revision, root.Revision, StringComparison.Ordinal))
        {
            return cache;
        }
        // A request that resolved the link just before a swap must not switch back to the old revision.
        var now = contentRoot.Resolve();
        if (now is null || !string.Equals(now.Revision, root.Revision, StringComparison.Ordinal))
        {
            return new RevisionCache(root.Revision, 0);
        }
        using var activity = telemetry.ActivitySource.StartActivity(StaticWebTelemetry.RevisionSwitchSpan);
        return Switch(now, "request", activity);
    }

    /// <summary>The webhook's entry: records the announcement in a span and switches to what the link names now.</summary>
    public (ResolvedRoot? Served, RevisionCache Cache) Announce(string announcedRevision)
    {
        using var activity = telemetry.ActivitySource.StartActivity(StaticWebTelemetry.RevisionSwitchSpan);
        activity?.SetTag("staticweb.revision.announced", announcedRevision);
        var root = contentRoot.ResolveNow();
        if (root is null)
        {
            activity?.SetStatus(ActivityStatusCode.Error, "nothing is published");
            LogAnnouncedButMissing(announcedRevision, contentRoot.ConfiguredRoot);
            return (null, current);
        }
        var cache = Switch(root, "webhook", activity);
        if (!string.Equals(root.Revision, announcedRevision, StringComparison.Ordinal))
        {
            activity?.SetStatus(ActivityStatusCode.Error, "the link names another revision");
            LogAnnouncedButOther(announcedRevision, root.Revision);
        }
        return (root, cache);
    }

    private RevisionCache Switch(ResolvedRoot root, string source, Activity? activity)
    {
        lock (gate)
        {
            var retiring = current;
            activity?.SetTag("staticweb.revision", root.Revision);
            activity?.SetTag("staticweb.revision.previous", retiring.Revision);
            activity?.SetTag("staticweb.switch.source", source);
            if (string.Equals(retiring.Revision, root.Revision, StringComparison.Ordinal))
            {
                return retiring;
            }
            var next = new RevisionCache(root.Revision, capacity);
            current = next;
            var (droppedEntries, droppedBytes) = (retiring.Count, retiring.UsedBytes);
            retiring.Retire();
            telemetry.RecordSwitch(source);
            LogSwitched(root.Revision, retiring.Revision, source, droppedEntries, droppedBytes);
            return next;
        }
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Serving revision {Revision} (was '{PreviousRevision}'), noticed by {Source}; dropped {DroppedEntries} cached files ({DroppedBytes} bytes)")]
    private partial void LogSwitched(string revision, string previousRevision, string source, int droppedEntries, long droppedBytes);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Revision {AnnouncedRevision} was announced but '{Root}' does not exist: nothing is published")]
    private partial void LogAnnouncedButMissing(string announcedRevision, string root);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Revision {AnnouncedRevision} was announced but the link names {Revision}, which stays served")]
    private partial void LogAnnouncedButOther(string announcedRevision, string revision);
}
