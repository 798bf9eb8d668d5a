using System.Net.Http.Json;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;

namespace Aspire.Hosting;

internal static class SyncNowCommand
{
    /// <summary>Adds the dashboard's "Sync now" command: <c>POST /sync</c> on the sidecar, authenticated with its webhook secret.</summary>
    public static IResourceBuilder<GitSyncResource> WithSyncNowCommand(this IResourceBuilder<GitSyncResource> sync) =>
        sync.WithHttpCommand("/sync", "Sync now", GitSyncResource.StatusEndpointName, GitSyncResource.SyncNowCommandName,
            new HttpCommandOptions
            {
                Description = "Fetch the ref now and publish it if it changed, without waiting for the next period",
                IconName = "ArrowSync",
                IsHighlighted = true,
                Method = HttpMethod.Post,
                PrepareRequest = async context =>
                {
                    context.Request.Headers.Add("X-Gitlab-Token", await sync.Resource.WebhookSecret.GetValueAsync(context.CancellationToken));
                },
                GetCommandResult = async context =>
                {
                    var result = await context.Response.Content.ReadFromJsonAsync<SyncNowResult>(context.CancellationToken);
                    if (result is null)
                    {
                        return CommandResults.Failure($"the sidecar answered {(int)context.Response.StatusCode} without a result");
                    }
                    // Show the outcome at once; the status health check fills in the rest on its next round.
                    await context.Services.GetRequiredService<ResourceNotificationService>().PublishUpdateAsync(sync.Resource, snapshot => snapshot with
                    {
                        Properties = ResourceProperties.With(snapshot.Properties,
                            new("gitsync.revision", result.Revision ?? ""),
                            new("gitsync.last_outcome", result.Outcome)),
                    });
                    return result.Outcome == "error" ? CommandResults.Failure($"sync failed: {result.Error}") : CommandResults.Success();
                },
            });

    private sealed record SyncNowResult(string Outcome, string? Revision, string? Error);
}
