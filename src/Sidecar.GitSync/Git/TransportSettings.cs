using LibGit2Sharp;
using Sidecar.GitSync.CommandLine;

namespace Sidecar.GitSync.Git;

/// <summary>
/// The <c>--git-config</c> transport settings libgit2 does not read from config, put on each fetch's options:
/// <c>http.sslVerify=false</c> accepts the server's certificate as git does. (libgit2 reads <c>http.proxy</c> and
/// <c>url.BASE.insteadOf</c> itself, from the store's config.)
/// </summary>
public static class TransportSettings
{
    public static void Apply(FetchOptions fetchOptions, GitSyncOptions options)
    {
        if (!options.GitConfigSettings.SslVerify)
        {
            fetchOptions.CertificateCheck = (_, _, _) => true;
        }
    }
}
