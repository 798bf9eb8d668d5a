using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.Options;
using Sidecar.StaticWeb.Settings;

namespace Sidecar.StaticWeb.Files;

/// <summary>
/// The <c>Content-Type</c> of a file by its extension: ASP.NET Core's table, brought up to date for
/// the web (modules, fonts, wasm, manifests, modern images), text types with a UTF-8 charset, and
/// the site's own mappings on top. Also knows which types are worth compressing.
/// </summary>
public sealed class WebContentTypes
{
    private static readonly (string Extension, string Type)[] WebAdditions =
    [
        (".html", "text/html; charset=utf-8"),
        (".htm", "text/html; charset=utf-8"),
        (".css", "text/css; charset=utf-8"),
        (".js", "text/javascript; charset=utf-8"),
        (".mjs", "text/javascript; charset=utf-8"),
        (".cjs", "text/javascript; charset=utf-8"),
        (".json", "application/json; charset=utf-8"),
        (".map", "application/json; charset=utf-8"),
        (".webmanifest", "application/manifest+json; charset=utf-8"),
        (".txt", "text/plain; charset=utf-8"),
        (".md", "text/markdown; charset=utf-8"),
        (".csv", "text/csv; charset=utf-8"),
        (".xml", "application/xml; charset=utf-8"),
        (".rss", "application/rss+xml; charset=utf-8"),
        (".atom", "application/atom+xml; charset=utf-8"),
        (".svg", "image/svg+xml"),
        (".wasm", "application/wasm"),
        (".avif", "image/avif"),
        (".webp", "image/webp"),
        (".apng", "image/apng"),
        (".jxl", "image/jxl"),
        (".ico", "image/x-icon"),
        (".woff", "font/woff"),
        (".woff2", "font/woff2"),
        (".ttf", "font/ttf"),
        (".otf", "font/otf"),
        (".mp4", "video/mp4"),
        (".webm", "video/webm"),
        (".ogg", "audio/ogg"),
        (".opus", "audio/ogg"),
        (".mp3", "audio/mpeg"),
        (".flac", "audio/flac"),
        (".vtt", "text/vtt; charset=utf-8"),
        (".pdf", "application/pdf"),
        (".gltf", "model/gltf+json"),
        (".glb", "model/gltf-binary"),
        (".ics", "text/calendar; charset=utf-8"),
        (".yaml", "application/yaml; charset=utf-8"),
        (".yml", "application/yaml; charset=utf-8"),
        (".toml", "application/toml; charset=utf-8"),
        (".gz", "application/gzip"),
        (".br", "application/x-brotli"),
        (".zip", "application/zip"),
    ];

    private static readonly string[] CompressibleTypes =
    [
        "text/", "application/javascript", "application/json", "application/manifest+json", "application/xml",
        "application/rss+xml", "application/atom+xml", "application/yaml", "application/toml", "application/wasm",
        "image/svg+xml", "image/x-icon", "image/bmp", "font/ttf", "font/otf", "model/gltf+json",
    ];

    private readonly FileExtensionContentTypeProvider provider = new();
    private readonly string? defaultType;

    public WebContentTypes(IOptions<StaticWebOptions> options)
    {
        foreach (var (extension, type) in WebAdditions)
        {
            provider.Mappings[extension] = type;
        }
        foreach (var (extension, type) in options.Value.ContentTypes)
        {
            provider.Mappings[extension.StartsWith('.') ? extension : "." + extension] = type;
        }
        defaultType = options.Value.ServeUnknownFileTypes ? options.Value.DefaultContentType : null;
    }

    /// <summary>The file's type; null when its extension is unknown and unknown types are not served.</summary>
    public string? For(string fileName) => provider.TryGetContentType(fileName, out var type) ? type : defaultType;

    public static bool IsCompressible(string contentType)
    {
        foreach (var prefix in CompressibleTypes)
        {
            if (contentType.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }
}
