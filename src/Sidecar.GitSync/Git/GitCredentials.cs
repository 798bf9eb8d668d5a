using LibGit2Sharp;
using LibGit2Sharp.Handlers;
using Sidecar.GitSync.CommandLine;

namespace Sidecar.GitSync.Git;

/// <summary>
/// The credentials one sync offers the remote: for the host of <c>--repo</c>, a credential refreshed before the sync
/// (<c>--askpass-url</c> or a GitHub App, as git-sync stores them last); then <c>--credential</c> entries whose URL is a
/// prefix of the asked URL (longest wins), else <c>--username</c> with <c>$GITSYNC_PASSWORD</c> or <c>--password-file</c>.
/// Password files are read when the sync starts, so a rotated token is picked up by the next sync.
/// </summary>
public static class GitCredentials
{
    public static CredentialsHandler? For(GitSyncOptions options)
    {
        var perUrl = options.Credentials
            .Select(c => (c.Url, c.Username, Password: c.Password ?? ReadPasswordFile(c.PasswordFile!, "--credential password-file")))
            .OrderByDescending(c => c.Url.Length)
            .ToList();
        (string Username, string Password)? general = options.Username.Length == 0 ? null
            : (options.Username, options.PasswordFile.Length > 0 ? ReadPasswordFile(options.PasswordFile, "--password-file") : options.Password);
        var refreshed = options.RefreshedCredential;
        var repoHost = HostOf(options.Repo);
        if (perUrl.Count == 0 && general is null && refreshed is null)
        {
            return null;
        }
        return (url, usernameFromUrl, types) =>
        {
            if (refreshed is not null && repoHost is not null && HostOf(url) == repoHost)
            {
                return new UsernamePasswordCredentials { Username = refreshed.Username, Password = refreshed.Password };
            }
            foreach (var credential in perUrl)
            {
                if (url.StartsWith(credential.Url.TrimEnd('/'), StringComparison.OrdinalIgnoreCase))
                {
                    return new UsernamePasswordCredentials { Username = credential.Username, Password = credential.Password };
                }
            }
            return general is { } g
                ? new UsernamePasswordCredentials { Username = g.Username, Password = g.Password }
                : new DefaultCredentials();
        };
    }

    // scheme://host:port, as git's credential helpers match a credential (without the path).
    private static string? HostOf(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri.GetLeftPart(UriPartial.Authority).ToLowerInvariant() : null;

    private static string ReadPasswordFile(string path, string flag)
    {
        try
        {
            // A trailing newline is how most secret files end; it is not part of the password.
            return File.ReadAllText(path).TrimEnd('\r', '\n');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SyncException($"{flag} '{path}' could not be read ({e.Message}): give a readable file that holds the password");
        }
    }
}
