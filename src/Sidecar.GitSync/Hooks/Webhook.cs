using System.Diagnostics;
using Sidecar.GitSync.CommandLine;
using Sidecar.GitSync.Telemetry;

namespace Sidecar.GitSync.Hooks;

/// <summary>
/// <c>--webhook-url</c>: one HTTP call per published revision, with header <c>Gitsync-Hash: SHA</c>, and
/// <c>Authorization: Bearer</c> with <c>$GITSYNC_WEBHOOK_TOKEN</c> when it is set (git-sync has no way to authenticate its webhook).
/// </summary>
public sealed partial class Webhook(GitSyncOptions options, TimeProvider timeProvider, ILogger<Webhook> logger) : IPublishHook, IDisposable
{
    // The URL as logs show it: a token in its user-info or query would otherwise be printed at every publish.
    private readonly string url = ForLogs(options.WebhookUrl);

    // Its own client: no resilience handler retrying behind the hook's own backoff.
    private readonly HttpClient client = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    public string Name => "webhook";

    public TimeSpan Backoff => options.WebhookBackoff;

    public async Task<bool> RunAsync(string sha, ActivityContext syncTrace, CancellationToken cancellationToken)
    {
        // A child of the sync's trace, so the receiver's traceparent links its work to the sync.
        using var activity = GitSyncTelemetry.ActivitySource.StartActivity("webhook", ActivityKind.Client, syncTrace);
        activity?.SetTag("gitsync.revision", sha);
        var request = new HttpRequestMessage(new HttpMethod(options.WebhookMethod.ToUpperInvariant()), options.WebhookUrl);
        request.Headers.Add("Gitsync-Hash", sha);
        if (options.WebhookToken.Length > 0)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", options.WebhookToken);
        }
        if (options.WebhookSuccessStatus == 0)
        {
            // Fire and forget: the call is made, its answer is not waited for (the request is disposed when it ends).
            _ = client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, CancellationToken.None)
                .ContinueWith(t =>
                {
                    t.Exception?.Handle(_ => true);
                    if (t.IsCompletedSuccessfully)
                    {
                        t.Result.Dispose();
                    }
                    request.Dispose();
                }, TaskScheduler.Default);
            LogSent(options.WebhookMethod, url, sha);
            return true;
        }
        using var disposeRequest = request;
        using var deadline = new CancellationTokenSource(options.WebhookTimeout, timeProvider);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var status = (int)response.StatusCode;
            activity?.SetTag("http.response.status_code", status);
            if (status == options.WebhookSuccessStatus)
            {
                LogAnswered(options.WebhookMethod, url, sha, status);
                return true;
            }
            LogUnexpectedStatus(options.WebhookMethod, url, sha, status, options.WebhookSuccessStatus, GoDuration.Format(Backoff));
        }
        catch (Exception e) when (e is HttpRequestException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            var reason = e is OperationCanceledException ? $"no answer within {GoDuration.Format(options.WebhookTimeout)} (--webhook-timeout)" : e.Message;
            LogCallFailed(options.WebhookMethod, url, sha, reason, GoDuration.Format(Backoff));
        }
        activity?.SetStatus(ActivityStatusCode.Error);
        return false;
    }

    public void Dispose() => client.Dispose();

    /// <summary>A URL without its user-info and query, which may carry credentials, so it can be logged.</summary>
    public static string ForLogs(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri)
            ? uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped)
            : "(not a URL)";

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook {Method} {Url} for {Revision} sent (fire and forget)")]
    private partial void LogSent(string method, string url, string revision);

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook {Method} {Url} for {Revision} answered {Status}")]
    private partial void LogAnswered(string method, string url, string revision, int status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook {Method} {Url} for {Revision} answered {Status}, not {Expected} (--webhook-success-status); retrying in {Backoff}")]
    private partial void LogUnexpectedStatus(string method, string url, string revision, int status, int expected, string backoff);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook {Method} {Url} for {Revision} failed: {Error}; retrying in {Backoff}")]
    private partial void LogCallFailed(string method, string url, string revision, string error, string backoff);
}
