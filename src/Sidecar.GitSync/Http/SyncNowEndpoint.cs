using System.Security.Cryptography;
using System.Text;
using Sidecar.GitSync.CommandLine;
using Sidecar.GitSync.Sync;
using Sidecar.GitSync.Telemetry;

namespace Sidecar.GitSync.Http;

/// <summary>
/// <c>POST /sync</c>: a push notification starts a sync now and is answered when it ends. The caller proves it
/// knows <c>--webhook-secret</c> as GitHub does (<c>X-Hub-Signature-256: sha256=HMAC(body)</c>) or as GitLab does
/// (<c>X-Gitlab-Token: SECRET</c>); anything else gets 401 and is counted.
/// </summary>
public static partial class SyncNowEndpoint
{
    private const int MaxBody = 1024 * 1024;

    public static IEndpointRouteBuilder MapSyncNow(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/sync", async (HttpRequest request, GitSyncOptions options, SyncTrigger trigger, GitSyncTelemetry telemetry,
            ILoggerFactory loggers, CancellationToken cancellationToken) =>
        {
            var logger = loggers.CreateLogger(typeof(SyncNowEndpoint));
            if (options.WebhookSecret.Length == 0)
            {
                return Results.Text("POST /sync is off: set --webhook-secret (or GITSYNC_WEBHOOK_SECRET) to the secret your git host signs its push webhooks with\n",
                    statusCode: StatusCodes.Status403Forbidden);
            }
            var body = await ReadBodyAsync(request, cancellationToken);
            if (body is null || !IsAuthentic(request, body, options.WebhookSecret))
            {
                telemetry.RecordRefusedSyncRequest();
                LogRefused(logger, request.HttpContext.Connection.RemoteIpAddress);
                return Results.Text("unauthorized: sign the body with X-Hub-Signature-256 (HMAC-SHA256 of --webhook-secret) or send X-Gitlab-Token\n",
                    statusCode: StatusCodes.Status401Unauthorized);
            }
            var result = await trigger.RequestAsync(cancellationToken);
            var report = new SyncReport(result.Outcome.ToString().ToLowerInvariant(), result.Revision, result.Error);
            return Results.Json(report, StatusJson.Default.SyncReport,
                statusCode: result.Outcome == SyncOutcome.Error ? StatusCodes.Status500InternalServerError : StatusCodes.Status200OK);
        });
        return endpoints;
    }

    /// <summary>True when the request carries the secret as GitHub or GitLab send it; compared in constant time.</summary>
    public static bool IsAuthentic(HttpRequest request, byte[] body, string secret)
    {
        var key = Encoding.UTF8.GetBytes(secret);
        if (request.Headers["X-Hub-Signature-256"].ToString() is { Length: > 0 } signature
            && signature.StartsWith("sha256=", StringComparison.OrdinalIgnoreCase))
        {
            var expected = Convert.ToHexStringLower(HMACSHA256.HashData(key, body));
            return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature[7..].ToLowerInvariant()));
        }
        if (request.Headers["X-Gitlab-Token"].ToString() is { Length: > 0 } token)
        {
            return CryptographicOperations.FixedTimeEquals(SHA256.HashData(key), SHA256.HashData(Encoding.UTF8.GetBytes(token)));
        }
        return false;
    }

    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxBody)
            {
                return null;
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused POST /sync from {Remote}: no valid X-Hub-Signature-256 or X-Gitlab-Token")]
    private static partial void LogRefused(ILogger logger, System.Net.IPAddress? remote);
}
