using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.Hosting;

/// <summary>The exact paths whose GET and HEAD requests are not traced (see <see cref="Extensions.ExcludeFromTraces"/>).</summary>
public sealed class UntracedRequestOptions
{
    public HashSet<string> Paths { get; } = new(StringComparer.OrdinalIgnoreCase);
}

/// <summary>
/// The span of a request: ASP.NET Core's own activity (source <c>Microsoft.AspNetCore</c>), named and given
/// OpenTelemetry's HTTP server attributes by the first middleware of the pipeline, when it is recorded.
/// </summary>
/// <remarks>
/// <para>
/// OpenTelemetry's ASP.NET Core trace instrumentation sets the same name and attributes, but from a DiagnosticListener
/// subscription, which makes ASP.NET Core call it at the start and at the end of every request, recorded or not; a
/// request that is not recorded costs here one read of <see cref="Activity.Current"/>. ASP.NET Core 10 sets the
/// attributes known at the start itself only when the <c>Microsoft.AspNetCore.Hosting.SuppressActivityOpenTelemetryData</c>
/// switch is off, and then for every request, recorded or not, and not the name or those of the end.
/// </para>
/// <para>
/// Requests under /health and /alive, and GET and HEAD requests for the paths given to
/// <see cref="Extensions.ExcludeFromTraces"/>, are unrecorded instead: OpenTelemetry exports nothing for them, and
/// spans started under them are not sampled either. Their metrics are still recorded.
/// </para>
/// </remarks>
public sealed class RequestSpans(IEnumerable<string> untracedPaths)
{
    public const string ActivitySourceName = "Microsoft.AspNetCore";
    public const string ActivityName = "Microsoft.AspNetCore.Hosting.HttpRequestIn";

    // OpenTelemetry's semantic conventions: these methods are named as they are, any other is "_OTHER".
    private static readonly HashSet<string> KnownMethods = new(StringComparer.OrdinalIgnoreCase)
    {
        "CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE",
    };

    private readonly HashSet<string> untracedPaths = new(untracedPaths, StringComparer.OrdinalIgnoreCase);

    private bool IsUntraced(HttpRequest request) =>
        request.Path.StartsWithSegments(Extensions.HealthEndpointPath) || request.Path.StartsWithSegments(Extensions.AlivenessEndpointPath)
        || ((HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)) && untracedPaths.Contains(request.Path.Value ?? "/"));

    public Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var activity = Activity.Current;
        if (activity is not { IsAllDataRequested: true } || activity.OperationName != ActivityName)
        {
            return next(context);
        }
        if (IsUntraced(context.Request))
        {
            activity.IsAllDataRequested = false;
            activity.ActivityTraceFlags &= ~ActivityTraceFlags.Recorded;
            return next(context);
        }
        TagStart(activity, context.Request);
        return TagEndAsync(activity, context, next);
    }

    private static async Task TagEndAsync(Activity activity, HttpContext context, RequestDelegate next)
    {
        try
        {
            await next(context);
        }
        catch (Exception exception)
        {
            // Kestrel answers 500 for an exception thrown before the response started.
            TagEnd(activity, context, context.Response.HasStarted ? context.Response.StatusCode : StatusCodes.Status500InternalServerError);
            activity.SetTag("error.type", exception.GetType().FullName);
            activity.SetStatus(ActivityStatusCode.Error);
            throw;
        }
        TagEnd(activity, context, context.Response.StatusCode);
    }

    private static void TagStart(Activity activity, HttpRequest request)
    {
        var method = request.Method;
        var known = KnownMethods.TryGetValue(method, out var normalized);
        activity.DisplayName = SpanMethod(method);
        activity.SetTag("http.request.method", known ? normalized : "_OTHER");
        if (!known || !string.Equals(method, normalized, StringComparison.Ordinal))
        {
            activity.SetTag("http.request.method_original", method);
        }
        if (request.Host.HasValue)
        {
            activity.SetTag("server.address", request.Host.Host);
            if (request.Host.Port is { } port)
            {
                activity.SetTag("server.port", port);
            }
        }
        activity.SetTag("url.scheme", request.Scheme);
        activity.SetTag("url.path", request.PathBase.HasValue || request.Path.HasValue ? (request.PathBase + request.Path).ToString() : "/");
        if (request.QueryString.HasValue)
        {
            activity.SetTag("url.query", RedactedQuery(request.QueryString.Value!));
        }
        activity.SetTag("network.protocol.version", ProtocolVersion(request.Protocol));
        if (request.Headers.UserAgent is [{ Length: > 0 } userAgent, ..])
        {
            activity.SetTag("user_agent.original", userAgent);
        }
    }

    private static void TagEnd(Activity activity, HttpContext context, int statusCode)
    {
        if ((context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText is { Length: > 0 } route)
        {
            activity.DisplayName = $"{SpanMethod(context.Request.Method)} {route}";
            activity.SetTag("http.route", route);
        }
        activity.SetTag("http.response.status_code", statusCode);
        if (statusCode >= StatusCodes.Status500InternalServerError)
        {
            activity.SetStatus(ActivityStatusCode.Error);
        }
    }

    // A span's name starts with the method as OpenTelemetry names it, or HTTP for a method it does not know.
    private static string SpanMethod(string method) => KnownMethods.TryGetValue(method, out var normalized) ? normalized : "HTTP";

    /// <summary>The query with every value replaced by <c>Redacted</c> (values can carry tokens; names are kept).</summary>
    private static string RedactedQuery(string query)
    {
        var parts = (query.StartsWith('?') ? query[1..] : query).Split('&');
        for (var i = 0; i < parts.Length; i++)
        {
            var equals = parts[i].IndexOf('=');
            if (equals >= 0)
            {
                parts[i] = parts[i][..(equals + 1)] + "Redacted";
            }
        }
        return "?" + string.Join('&', parts);
    }

    private static string ProtocolVersion(string protocol) =>
        HttpProtocol.IsHttp11(protocol) ? "1.1"
        : HttpProtocol.IsHttp2(protocol) ? "2"
        : HttpProtocol.IsHttp3(protocol) ? "3"
        : HttpProtocol.IsHttp10(protocol) ? "1.0"
        : protocol;
}

/// <summary>Puts <see cref="RequestSpans"/> in front of the whole pipeline, before any middleware a service adds.</summary>
public sealed class RequestSpansStartupFilter(IOptions<UntracedRequestOptions> options) : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        var spans = new RequestSpans(options.Value.Paths);
        app.Use((context, nextMiddleware) => spans.InvokeAsync(context, nextMiddleware));
        next(app);
    };
}
