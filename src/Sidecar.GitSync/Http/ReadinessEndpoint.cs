using Sidecar.GitSync.Sync;

namespace Sidecar.GitSync.Http;

public static class ReadinessEndpoint
{
    /// <summary>git-sync's <c>GET /</c>: 503 until a revision is published, then 200 with the revision.</summary>
    public static IEndpointRouteBuilder MapReadiness(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/", (SyncStatus status) => status.IsReady
            ? Results.Text($"ok {status.PublishedRevision}\n")
            : Results.Text("not ready: no revision published yet\n", statusCode: StatusCodes.Status503ServiceUnavailable));
        return endpoints;
    }
}
