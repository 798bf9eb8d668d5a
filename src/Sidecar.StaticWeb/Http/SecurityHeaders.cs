using Microsoft.Extensions.Options;
using Sidecar.StaticWeb.Settings;

namespace Sidecar.StaticWeb.Http;

/// <summary>The security headers every response carries: nosniff, a referrer policy and, when set, a CSP.</summary>
public sealed class SecurityHeaders(IOptions<StaticWebOptions> options)
{
    private readonly bool noSniff = options.Value.NoSniff;
    private readonly string referrerPolicy = options.Value.ReferrerPolicy;
    private readonly string contentSecurityPolicy = options.Value.ContentSecurityPolicy;

    public void Apply(HttpResponse response)
    {
        var headers = response.Headers;
        if (noSniff)
        {
            headers.XContentTypeOptions = "nosniff";
        }
        if (referrerPolicy.Length > 0)
        {
            headers["Referrer-Policy"] = referrerPolicy;
        }
        if (contentSecurityPolicy.Length > 0)
        {
            headers.ContentSecurityPolicy = contentSecurityPolicy;
        }
    }
}
