using Microsoft.Extensions.Options;
using Sidecar.StaticWeb.Files;
using Sidecar.StaticWeb.Revisions;
using Sidecar.StaticWeb.Settings;
using Sidecar.StaticWeb.Telemetry;

namespace Sidecar.StaticWeb.Http;

/// <summary>
/// Serves one request from the root as it is resolved at the request's start: the method and path
/// are judged, the link resolved once, the file found in that revision's cache (or on disk), and
/// the response written from that one revision.
/// </summary>
public sealed class StaticSiteHandler(
    ContentRoot contentRoot,
    RevisionTracker revisions,
    FileEntryLoader loader,
    FileResponseWriter writer,
    DirectoryListingPage listing,
    SecurityHeaders securityHeaders,
    StaticWebTelemetry telemetry,
    IOptions<StaticWebOptions> options)
{
    public const string RevisionHeader = "X-Content-Revision";

    private readonly StaticWebOptions settings = options.Value;

    public Task HandleAsync(HttpContext context)
    {
        Task serving;
        try
        {
            serving = ServeAsync(context);
        }
        catch (IOException e) when (IsGone(e) && !context.Response.HasStarted)
        {
            return ServeAgainAsync(context);
        }
        return serving.IsCompletedSuccessfully ? serving : AwaitServingAsync(context, serving);
    }

    private async Task AwaitServingAsync(HttpContext context, Task serving)
    {
        try
        {
            await serving;
        }
        catch (IOException e) when (IsGone(e) && !context.Response.HasStarted)
        {
            await ServeAgainAsync(context);
        }
    }

    // The resolved revision was deleted before its file was opened (the sidecar removes a retired
    // snapshot after a swap): serve once more from what the link names now, else say so.
    private async Task ServeAgainAsync(HttpContext context)
    {
        context.Response.Clear();
        contentRoot.ResolveNow();
        try
        {
            await ServeAsync(context);
        }
        catch (IOException e) when (IsGone(e) && !context.Response.HasStarted)
        {
            context.Response.Clear();
            securityHeaders.Apply(context.Response);
            context.Response.Headers.RetryAfter = "1";
            await Plain(context, StatusCodes.Status503ServiceUnavailable, "The published revision was removed while it was being served; try again");
        }
    }

    private static bool IsGone(IOException e) => e is FileNotFoundException or DirectoryNotFoundException;

    private Task ServeAsync(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
        securityHeaders.Apply(response);
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            response.Headers.Allow = "GET, HEAD";
            return Plain(context, StatusCodes.Status405MethodNotAllowed, "Method Not Allowed");
        }

        var requestPath = request.Path.Value ?? "/";
        switch (RequestPathGuard.Check(requestPath))
        {
            case RequestPathGuard.Verdict.Malformed:
                return Plain(context, StatusCodes.Status400BadRequest, "Bad Request");
            case RequestPathGuard.Verdict.Hidden:
                return Plain(context, StatusCodes.Status404NotFound, "Not Found");
        }

        var root = contentRoot.Resolve();
        if (root is null)
        {
            response.Headers.RetryAfter = "1";
            return Plain(context, StatusCodes.Status503ServiceUnavailable, "No content is published yet");
        }
        response.Headers[RevisionHeader] = root.Revision;
        if (System.Diagnostics.Activity.Current is { IsAllDataRequested: true } span)
        {
            span.SetTag(StaticWebTelemetry.RevisionTag, root.Revision);
        }

        var cache = revisions.CacheFor(root);
        if (cache.TryGet(requestPath, out var cached))
        {
            telemetry.RecordLookup(hit: true);
            // On the socket thread only what is served from memory; reading or compressing leaves it.
            return settings.InlineSocketScheduling && !FileResponseWriter.ServesFromMemory(context, cached)
                ? OnThreadPoolAsync(() => writer.WriteAsync(context, cached))
                : writer.WriteAsync(context, cached);
        }
        telemetry.RecordLookup(hit: false);
        return settings.InlineSocketScheduling
            ? OnThreadPoolAsync(() => ServeFromDiskAsync(context, root, cache, requestPath))
            : ServeFromDiskAsync(context, root, cache, requestPath);
    }

    // With InlineSocketScheduling the request runs on a socket I/O thread, which serves every
    // connection it owns: blocking file work (stat, read, hash, compress) moves to the thread pool.
    private static async Task OnThreadPoolAsync(Func<Task> work)
    {
        await Task.Yield();
        await work();
    }

    private Task ServeFromDiskAsync(HttpContext context, ResolvedRoot root, RevisionCache cache, string requestPath)
    {
        var request = context.Request;
        var response = context.Response;
        var segments = RequestPathGuard.Segments(requestPath);

        var found = loader.Find(root, cache, requestPath, segments);
        if (found.Kind == SiteLookupKind.NotFound && !Directory.Exists(root.Directory))
        {
            // The revision was removed after it was resolved (with StaticWeb:RevisionCheck=webhook, possibly
            // before the announcement of the next one): served again from what the link names now.
            throw new DirectoryNotFoundException($"The revision {root.Revision} was removed while it was being served");
        }
        switch (found.Kind)
        {
            case SiteLookupKind.File:
                return writer.WriteAsync(context, found.File!);
            case SiteLookupKind.DirectoryWithoutSlash:
                // As nginx: a directory is addressed with a trailing slash, so relative links in its index work.
                // Built from the segments, so "//host" cannot become a protocol-relative redirect to another site.
                response.Headers.Location = request.PathBase + "/" + string.Join('/', segments) + "/" + request.QueryString;
                response.StatusCode = StatusCodes.Status301MovedPermanently;
                return Task.CompletedTask;
            case SiteLookupKind.DirectoryWithoutIndex when settings.DirectoryListing:
                return listing.WriteAsync(context, root, found.DirectoryPath!, requestPath);
        }
        return NotFoundAsync(context, root, cache, segments);
    }

    private Task NotFoundAsync(HttpContext context, ResolvedRoot root, RevisionCache cache, string[] segments)
    {
        if (settings.SpaFallback.Length > 0 && (segments.Length == 0 || !Path.HasExtension(segments[^1]))
            && loader.FindSiteFile(root, cache, settings.SpaFallback) is { } app)
        {
            return writer.WriteAsync(context, app);
        }
        if (settings.NotFoundPage.Length > 0 && loader.FindSiteFile(root, cache, settings.NotFoundPage) is { } page)
        {
            return writer.WriteNotFoundPageAsync(context, page);
        }
        return Plain(context, StatusCodes.Status404NotFound, "Not Found");
    }

    private static Task Plain(HttpContext context, int status, string text)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : context.Response.WriteAsync(text + "\n");
    }
}
