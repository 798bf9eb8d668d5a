using System.Collections.Concurrent;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;

namespace Sidecar.AppHost.Tests;

/// <summary>The console output of resources as the dashboard shows it, collected from when the watch starts until disposed.</summary>
public sealed class ConsoleLogs : IAsyncDisposable
{
    private readonly CancellationTokenSource stop = new();
    private readonly List<Task> watches = [];

    public ConcurrentQueue<(string Resource, string Line)> Lines { get; } = new();

    /// <summary>A resource's lines without the time stamp the orchestrator adds and without colours.</summary>
    public IEnumerable<string> Of(string resource) => Lines.Where(l => l.Resource == resource).Select(l => Plain(l.Line));

    /// <summary>The console logger's level word a line starts with (info, warn, fail, crit, ...), or null for a message's own line.</summary>
    public static string? LevelOf(string plainLine) =>
        System.Text.RegularExpressions.Regex.Match(plainLine, "^(trce|dbug|info|warn|fail|crit): ") is { Success: true } m ? m.Groups[1].Value : null;

    private static string Plain(string line)
    {
        var text = System.Text.RegularExpressions.Regex.Replace(line, "\u001b\\[[0-9;]*m", "");
        return System.Text.RegularExpressions.Regex.Replace(text, "^\\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z ", "");
    }

    /// <summary>Starts watching running resources; what they wrote before is seen too.</summary>
    public static async Task<ConsoleLogs> WatchAsync(DistributedApplication app, CancellationToken cancellationToken, params string[] resources)
    {
        foreach (var resource in resources)
        {
            // Only a started resource has the instance id its logs are kept under.
            await app.ResourceNotifications.WaitForResourceAsync(resource, KnownResourceStates.Running, cancellationToken);
        }
        var logs = new ConsoleLogs();
        var service = app.Services.GetRequiredService<ResourceLoggerService>();
        var model = app.Services.GetRequiredService<DistributedApplicationModel>();
        foreach (var resource in resources)
        {
            // By the resource, not its name: the logs are kept per instance, whose id is not the name.
            var watched = model.Resources.Single(r => r.Name == resource);
            logs.watches.Add(Task.Run(async () =>
            {
                try
                {
                    await foreach (var batch in service.WatchAsync(watched).WithCancellation(logs.stop.Token))
                    {
                        foreach (var line in batch)
                        {
                            logs.Lines.Enqueue((resource, line.Content));
                        }
                    }
                }
                catch (OperationCanceledException)
                {
                }
            }));
        }
        return logs;
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        await Task.WhenAll(watches);
        stop.Dispose();
    }
}
