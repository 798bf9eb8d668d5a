using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Sidecar.StaticWeb.Http;
using Sidecar.StaticWeb.Settings;

namespace Sidecar.StaticWeb.Revisions;

/// <summary>
/// <c>POST /_sidecar/revision</c> with <c>Gitsync-Hash: SHA</c>: the sidecar says it published a
/// revision. Callers on loopback are trusted; others must present
/// <see cref="StaticWebOptions.RevisionWebhookSecret"/> as <c>Authorization: Bearer</c> (never in the URL, which gets logged).
/// </summary>
public sealed class RevisionWebhook(RevisionTracker revisions, IOptions<StaticWebOptions> options)
{
    public const string Path = "/_sidecar/revision";
    public const string HashHeader = "Gitsync-Hash";

    private readonly byte[] secret = Encoding.UTF8.GetBytes(options.Value.RevisionWebhookSecret);

    public async Task HandleAsync(HttpContext context)
    {
        var response = context.Response;
        response.Headers.CacheControl = "no-store";
        if (!IsAllowed(context))
        {
            await Plain(response, StatusCodes.Status403Forbidden,
                "Forbidden: call from loopback, or send the StaticWeb:RevisionWebhookSecret as 'Authorization: Bearer SECRET'");
            return;
        }
        var announced = context.Request.Headers[HashHeader].ToString().Trim();
        if (!IsRevisionName(announced))
        {
            await Plain(response, StatusCodes.Status400BadRequest,
                $"Bad Request: the {HashHeader} header must name the published revision (a commit SHA), got '{Truncate(announced)}'");
            return;
        }

        var (served, _) = revisions.Announce(announced);
        if (served is null)
        {
            await Plain(response, StatusCodes.Status409Conflict, $"Conflict: {announced} was announced but nothing is published");
            return;
        }
        response.Headers[StaticSiteHandler.RevisionHeader] = served.Revision;
        if (!string.Equals(served.Revision, announced, StringComparison.Ordinal))
        {
            await Plain(response, StatusCodes.Status409Conflict, $"Conflict: {announced} was announced but the link names {served.Revision}");
            return;
        }
        await Plain(response, StatusCodes.Status200OK, $"serving {served.Revision}");
    }

    /// <summary>Loopback callers, or callers presenting the configured secret; a wrong secret is refused even from loopback.</summary>
    public bool IsAllowed(HttpContext context)
    {
        var presented = PresentedToken(context.Request);
        if (presented is not null)
        {
            return secret.Length > 0 && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), secret);
        }
        return context.Connection.RemoteIpAddress is { } address && IPAddress.IsLoopback(address);
    }

    private static string? PresentedToken(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        return authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization[7..].Trim() : null;
    }

    private static bool IsRevisionName(string value) =>
        value.Length is > 0 and <= 128 && !value.StartsWith('.') && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    private static string Truncate(string value) => value.Length <= 64 ? value : value[..64] + "...";

    private static Task Plain(HttpResponse response, int status, string text)
    {
        response.StatusCode = status;
        response.ContentType = "text/plain; charset=utf-8";
        return response.WriteAsync(text + "\n");
    }
}
