using System.Text.Json.Serialization;
using Sidecar.GitSync.SignatureVerification;
using Sidecar.GitSync.Sync;

namespace Sidecar.GitSync.Http;

/// <summary><c>GET /status</c>: the published revision and the last sync's outcome, as JSON (for dashboards and health checks).</summary>
public static class StatusEndpoint
{
    public static IEndpointRouteBuilder MapStatus(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/status", (SyncStatus status) =>
        {
            var last = status.LastResult;
            return Results.Json(
                new StatusReport(status.PublishedRevision, last?.Outcome.ToString().ToLowerInvariant(), last?.Error, status.LastSyncTime, status.ConsecutiveFailures,
                    SignatureReport.From(status.LastSignature), SignatureReport.From(status.PublishedSignature)),
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
    [property: JsonPropertyName("consecutiveFailures")] int ConsecutiveFailures,
    [property: JsonPropertyName("signature")] SignatureReport? Signature = null,
    [property: JsonPropertyName("revisionSignature")] SignatureReport? RevisionSignature = null);

/// <summary>A signature verdict in <c>/status</c>: <c>signature</c> is the last one checked, <c>revisionSignature</c> the published revision's.</summary>
public sealed record SignatureReport(
    [property: JsonPropertyName("verdict")] string Verdict,
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("format")] string Format,
    [property: JsonPropertyName("signer")] string? Signer,
    [property: JsonPropertyName("principal")] string? Principal,
    [property: JsonPropertyName("reason")] string Reason)
{
    public static SignatureReport? From(SignatureVerdict? verdict) => verdict is null ? null
        : new(verdict.Name, $"{verdict.ObjectType} {verdict.ObjectId}", verdict.Format, verdict.Signer, verdict.Principal, verdict.Reason);
}

/// <summary>What <c>POST /sync</c> answers when its sync ends.</summary>
public sealed record SyncReport(
    [property: JsonPropertyName("outcome")] string Outcome,
    [property: JsonPropertyName("revision")] string? Revision,
    [property: JsonPropertyName("error")] string? Error);

[JsonSerializable(typeof(StatusReport))]
[JsonSerializable(typeof(SyncReport))]
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
internal sealed partial class StatusJson : JsonSerializerContext;
