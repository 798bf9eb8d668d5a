using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Sidecar.StaticWeb;

/// <summary>Serves one request from the root as it is resolved at the request's start.</summary>
public sealed class StaticSiteHandler(ContentRoot contentRoot, IOptions<StaticWebOptions> options)
{
    public const string RevisionHeader = "X-Content-Revision";

    private readonly FileExtensionContentTypeProvider contentTypes = new();

    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            response.Headers.Allow = "GET, HEAD";
            await Plain(context, StatusCodes.Status405MethodNotAllowed, "Method Not Allowed");
            return;
        }

        var requestPath = request.Path.Value ?? "/";
        switch (RequestPathGuard.Check(requestPath, out var segments))
        {
            case RequestPathGuard.Verdict.Malformed:
                await Plain(context, StatusCodes.Status400BadRequest, "Bad Request");
                return;
            case RequestPathGuard.Verdict.Hidden:
                await Plain(context, StatusCodes.Status404NotFound, "Not Found");
                return;
        }

        var root = contentRoot.Resolve();
        if (root is null)
        {
            response.Headers.RetryAfter = "1";
            await Plain(context, StatusCodes.Status503ServiceUnavailable, "No content is published yet");
            return;
        }
        response.Headers[RevisionHeader] = root.Revision;

        var path = Path.Join([root.Directory, .. segments]);
        if (Directory.Exists(path))
        {
            if (!requestPath.EndsWith('/'))
            {
                // As nginx: a directory is addressed with a trailing slash, so relative links in its index work.
                response.Headers.Location = request.PathBase + requestPath + "/" + request.QueryString;
                response.StatusCode = StatusCodes.Status301MovedPermanently;
                return;
            }
            path = Path.Join(path, options.Value.IndexFile);
        }

        var file = new FileInfo(path);
        if (!file.Exists || !IsInside(root, path))
        {
            await Plain(context, StatusCodes.Status404NotFound, "Not Found");
            return;
        }

        if (!contentTypes.TryGetContentType(file.Name, out var contentType))
        {
            contentType = "application/octet-stream";
        }
        var lastModified = file.LastWriteTimeUtc;
        var etag = new EntityTagHeaderValue($"\"{file.Length:x}-{lastModified.Ticks:x}\"");
        await TypedResults.PhysicalFile(file.FullName, contentType, lastModified: lastModified, entityTag: etag, enableRangeProcessing: true)
            .ExecuteAsync(context);
    }

    // A symlink inside the site must not lead out of the revision being served.
    private static bool IsInside(ResolvedRoot root, string path)
    {
        var real = ContentRoot.RealPath(path);
        return real is not null && real.StartsWith(root.Directory + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }

    private static Task Plain(HttpContext context, int status, string text)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : context.Response.WriteAsync(text + "\n");
    }
}
