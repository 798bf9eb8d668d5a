using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;

namespace Sidecar.AppHost.Tests;

/// <summary>
/// nginx from the machine as the main server of the pattern, run as an executable resource: the
/// sidecar extensions work for it as for any project. Its root is the sidecar's link; it is
/// configured as git-sync's docs advise (hidden paths refused, sendfile, the link resolved per request).
/// </summary>
internal static class NginxResourceExtensions
{
    /// <summary>The variable that carries the folder to serve into nginx's configuration.</summary>
    public const string RootVariable = "SITE_ROOT";

    private const string Template = """
        worker_processes 1;
        daemon off;
        pid @PREFIX@/nginx.pid;
        error_log stderr warn;
        events { worker_connections 1024; }
        http {
            include /etc/nginx/mime.types;
            default_type application/octet-stream;
            access_log off;
            sendfile on;
            client_body_temp_path @PREFIX@/client_body;
            proxy_temp_path @PREFIX@/proxy;
            fastcgi_temp_path @PREFIX@/fastcgi;
            uwsgi_temp_path @PREFIX@/uwsgi;
            scgi_temp_path @PREFIX@/scgi;
            server {
                listen 127.0.0.1:@PORT@;
                root @SITE_ROOT@;
                # Resolve the link once per request, so a swap is seen at once and never mixed.
                disable_symlinks off;
                location ~ /\. { return 404; }
                location / { try_files $uri $uri/ =404; }
            }
        }
        """;

    /// <summary>
    /// Adds nginx (which must be on the PATH) listening on loopback, with its configuration and
    /// temporary files under <paramref name="workingDirectory"/>. Serve a sidecar's content with
    /// <c>.WithGitSyncSidecar(sync, NginxResourceExtensions.RootVariable)</c>.
    /// </summary>
    public static IResourceBuilder<ExecutableResource> AddNginx(this IDistributedApplicationBuilder builder, [ResourceName] string name, string workingDirectory)
    {
        var prefix = Path.GetFullPath(workingDirectory);
        Directory.CreateDirectory(prefix);
        File.WriteAllText(Path.Combine(prefix, "nginx.conf.template"), Template.Replace("@PREFIX@", prefix));
        // The port and the root are known only at start: fill them in, then become nginx.
        const string start = """sed -e "s|@PORT@|$PORT|" -e "s|@SITE_ROOT@|$SITE_ROOT|" nginx.conf.template > nginx.conf && exec nginx -p "$PWD" -c "$PWD/nginx.conf" """;
        return builder.AddExecutable(name, "/bin/sh", prefix, "-c", start)
            .WithHttpEndpoint(env: "PORT")
            .WithHttpHealthCheck("/");
    }
}
