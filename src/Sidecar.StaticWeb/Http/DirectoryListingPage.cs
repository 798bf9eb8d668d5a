using System.Net;
using System.Text;
using Sidecar.StaticWeb.Revisions;

namespace Sidecar.StaticWeb.Http;

/// <summary>
/// The optional listing of a directory that has no index file: hidden entries left out, and
/// symlinks that lead out of the revision left out too.
/// </summary>
public sealed class DirectoryListingPage
{
    public async Task WriteAsync(HttpContext context, ResolvedRoot root, string directory, string requestPath)
    {
        var page = new StringBuilder();
        var title = WebUtility.HtmlEncode(requestPath);
        page.Append("<!doctype html>\n<meta charset=\"utf-8\">\n<title>Index of ").Append(title)
            .Append("</title>\n<h1>Index of ").Append(title).Append("</h1>\n<ul>\n");
        if (requestPath != "/")
        {
            page.Append("<li><a href=\"../\">../</a></li>\n");
        }
        var entries = new DirectoryInfo(directory).EnumerateFileSystemInfos()
            .Where(e => !e.Name.StartsWith('.') && (e.LinkTarget is null || RevisionBoundary.Contains(root, e.FullName, allowRoot: true)))
            .OrderBy(e => e is FileInfo)
            .ThenBy(e => e.Name, StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            var name = entry is DirectoryInfo ? entry.Name + "/" : entry.Name;
            page.Append("<li><a href=\"").Append(Uri.EscapeDataString(entry.Name)).Append(entry is DirectoryInfo ? "/" : "")
                .Append("\">").Append(WebUtility.HtmlEncode(name)).Append("</a></li>\n");
        }
        page.Append("</ul>\n");

        var bytes = Encoding.UTF8.GetBytes(page.ToString());
        var response = context.Response;
        response.ContentType = "text/html; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.ContentLength = bytes.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(bytes, context.RequestAborted);
        }
    }
}
