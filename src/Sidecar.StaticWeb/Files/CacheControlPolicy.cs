using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Sidecar.StaticWeb.Settings;

namespace Sidecar.StaticWeb.Files;

/// <summary>
/// The <c>Cache-Control</c> of a file: HTML revalidates (a new revision is seen at once),
/// fingerprinted names are immutable, everything else gets a short max-age.
/// </summary>
public sealed class CacheControlPolicy(IOptions<StaticWebOptions> options)
{
    private readonly StaticWebOptions settings = options.Value;
    private readonly Regex fingerprint = new(options.Value.FingerprintPattern, RegexOptions.Compiled | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    public string For(string fileName, string contentType)
    {
        if (contentType.StartsWith("text/html", StringComparison.OrdinalIgnoreCase))
        {
            return settings.HtmlCacheControl;
        }
        return fingerprint.IsMatch(fileName) ? settings.FingerprintedCacheControl : settings.CacheControl;
    }
}
