using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Sidecar.StaticWeb.Settings;

/// <summary>Checks the settings at start; each failure names the setting, the bad value and the fix.</summary>
public sealed class StaticWebOptionsValidator : IValidateOptions<StaticWebOptions>
{
    public ValidateOptionsResult Validate(string? name, StaticWebOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Root))
        {
            failures.Add("StaticWeb:Root is not set: give the folder to serve with --root DIR or the environment variable StaticWeb__Root");
        }
        foreach (var index in options.IndexFiles)
        {
            if (!IsPlainFileName(index))
            {
                failures.Add($"StaticWeb:IndexFiles has '{index}': an index file is a plain file name such as index.html, without '/' or a leading '.'");
            }
        }
        CheckSitePath(failures, "SpaFallback", options.SpaFallback);
        CheckSitePath(failures, "NotFoundPage", options.NotFoundPage);
        if (options.CacheSizeBytes < 0)
        {
            failures.Add($"StaticWeb:CacheSizeBytes is {options.CacheSizeBytes}: use 0 (no cache) or a positive number of bytes");
        }
        if (options.CacheMaxFileBytes < 0 || options.CompressionMaxFileBytes < 0)
        {
            failures.Add("StaticWeb:CacheMaxFileBytes and StaticWeb:CompressionMaxFileBytes must be 0 or more bytes");
        }
        if (options.CacheMaxFileBytes > int.MaxValue)
        {
            failures.Add($"StaticWeb:CacheMaxFileBytes is {options.CacheMaxFileBytes}: at most {int.MaxValue} bytes");
        }
        if (options.MaxRequestLineBytes < 256 || options.MaxRequestHeadersBytes < 1024)
        {
            failures.Add($"StaticWeb:MaxRequestLineBytes ({options.MaxRequestLineBytes}) must be at least 256 and StaticWeb:MaxRequestHeadersBytes ({options.MaxRequestHeadersBytes}) at least 1024");
        }
        if (options.RequestHeadersTimeoutSeconds < 1)
        {
            failures.Add($"StaticWeb:RequestHeadersTimeoutSeconds is {options.RequestHeadersTimeoutSeconds}: give at least 1 second (30 is the default)");
        }
        if (options.RequestTraceSampleRatio is { } ratio && !(ratio >= 0 && ratio <= 1))
        {
            failures.Add($"StaticWeb:RequestTraceSampleRatio is {ratio}: give a share from 0 (no request traced) to 1 (every request), e.g. 0.05, or leave it unset for the default");
        }
        if (options.RevisionCheckSeconds < 1)
        {
            failures.Add($"StaticWeb:RevisionCheckSeconds is {options.RevisionCheckSeconds}: give at least 1 second (10 is the default)");
        }
        try
        {
            _ = new Regex(options.FingerprintPattern);
        }
        catch (ArgumentException e)
        {
            failures.Add($"StaticWeb:FingerprintPattern '{options.FingerprintPattern}' is not a regular expression ({e.Message}); e.g. [.-][0-9a-fA-F]{{8,64}}\\.[A-Za-z0-9]+$");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void CheckSitePath(List<string> failures, string setting, string value)
    {
        if (value.Length == 0)
        {
            return;
        }
        var segments = value.Split('/');
        if (value.StartsWith('/') || segments.Any(s => s.Length == 0 || s.StartsWith('.') || s.Contains('\\')))
        {
            failures.Add($"StaticWeb:{setting} is '{value}': give a path inside the site relative to its root, such as 404.html or app/index.html, or empty to turn it off");
        }
    }

    private static bool IsPlainFileName(string name) =>
        name.Length > 0 && !name.StartsWith('.') && !name.Contains('/') && !name.Contains('\\');

    /// <summary>
    /// The message for a <c>StaticWeb:RevisionCheck</c> value that is not one of <see cref="RevisionCheck"/>'s names, or
    /// null. Checked on the raw setting before binding, whose own error for an enum names no fix.
    /// </summary>
    public static string? RevisionCheckError(string? value) =>
        value is null || (Enum.TryParse<RevisionCheck>(value, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) && !char.IsDigit(value.TrimStart()[0]))
            ? null
            : $"StaticWeb:RevisionCheck is '{value}': use 'request' (read the link at every request) or 'webhook' (read it when the sidecar's webhook announces a revision)";
}
