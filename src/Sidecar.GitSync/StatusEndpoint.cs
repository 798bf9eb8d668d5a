using System.Text.Json.Serialization;

namespace Sidecar.GitSync;

/// <summary><c>GET /status</c>: the published revision and the last sync's outcome, as JSON (for dashboards and health checks).</summary>
public static class StatusEndpoint
{
    public static IEndpointRouteBuilder MapStatus(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/status", (SyncStatus status) =>
        {
            var last = status.LastResult;
            return Results.Json(
                new StatusReport(status.PublishedRevision, last?.Outcome.ToString().ToLowerInvariant(), last?.Error, status.LastSyncTime, status.ConsecutiveFailures),
                StatusJson.Default.StatusReport);
        });
        return endpoints;
    }
}

public sealed record StatusReport(
    [property: JsonPropertyName("revision")] string? Revision,
    [property: JsonPropertyName("lastOutcome")] string? LastOutcome,
    [property: JsonPropertyName("lastError")] string? LastError,
    [property: JsonPropertyName("lastSyncTime")] DateTimeOffset? LastSyncTime,
    [property: JsonPropertyName("consecutiveFailures")] int ConsecutiveFailures);

/// <summary>What <c>POST /sync</c> answers when its sync ends.</summary>
public sealed record SyncReport(
    [property: JsonPropertyName("outcome")] string Outcome,
    [property: JsonPropertyName("revision")] string? Revision,
    [property: JsonPropertyName("error")] string? Error);

[JsonSerializable(typeof(StatusReport))]
[JsonSerializable(typeof(SyncReport))]
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
internal sealed partial class StatusJson : JsonSerializerContext;
