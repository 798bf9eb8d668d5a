using Sidecar.GitSync.Git;
using Sidecar.GitSync.Sync;

namespace Sidecar.GitSync.CommandLine;

/// <summary>Checks of the flags added for git-sync parity; each message names the bad value and the fix.</summary>
public static class GitSyncOptionsValidation
{
    private static readonly TimeSpan Shortest = TimeSpan.FromMilliseconds(10);

    public static IEnumerable<string> Validate(GitSyncOptions options)
    {
        if (options.SyncTimeout < Shortest)
        {
            yield return $"--sync-timeout {GoDuration.Format(options.SyncTimeout)} is too short: give at least 10ms";
        }
        if (options.InitPeriod is { } initPeriod && initPeriod < Shortest)
        {
            yield return $"--init-period {GoDuration.Format(initPeriod)} is too short: give at least 10ms";
        }
        if (options.StaleWorktreeTimeout < TimeSpan.Zero)
        {
            yield return "--stale-worktree-timeout is negative: give 0 (remove at once) or a duration such as 5m";
        }
        if (options.WebhookUrl.Length > 0
            && !(Uri.TryCreate(options.WebhookUrl, UriKind.Absolute, out var webhook) && (webhook.Scheme == Uri.UriSchemeHttp || webhook.Scheme == Uri.UriSchemeHttps)))
        {
            yield return $"--webhook-url '{options.WebhookUrl}' is not an http(s) URL: write it like http://127.0.0.1:8080/reload";
        }
        if (string.IsNullOrWhiteSpace(options.WebhookMethod) || options.WebhookMethod.Any(char.IsWhiteSpace))
        {
            yield return $"--webhook-method '{options.WebhookMethod}' is not an HTTP method: give POST, PUT or GET";
        }
        if (options.WebhookSuccessStatus != 0 && options.WebhookSuccessStatus is < 100 or > 599)
        {
            yield return $"--webhook-success-status {options.WebhookSuccessStatus} is not an HTTP status: give 100 to 599, or 0 to fire and forget";
        }
        if (options.Password.Length > 0 && options.PasswordFile.Length > 0)
        {
            yield return "$GITSYNC_PASSWORD and --password-file are both set: keep one of them";
        }
        if ((options.Password.Length > 0 || options.PasswordFile.Length > 0) && options.Username.Length == 0)
        {
            yield return "a password is set but --username is not: give --username too";
        }
        if (options.AskPassUrl.Length > 0
            && !(Uri.TryCreate(options.AskPassUrl, UriKind.Absolute, out var askPass) && (askPass.Scheme == Uri.UriSchemeHttp || askPass.Scheme == Uri.UriSchemeHttps)))
        {
            yield return $"--askpass-url '{options.AskPassUrl}' is not an http(s) URL: write it like http://127.0.0.1:9102/git_askpass";
        }
        foreach (var error in GitHubAppErrors(options))
        {
            yield return error;
        }
        if (options.HttpPprof && options.HttpBind.Length == 0)
        {
            yield return "--http-pprof needs --http-bind, as in git-sync: give an address such as --http-bind=:8080, or drop --http-pprof";
        }
        if (options.HttpMetrics && options.HttpBind.Length == 0)
        {
            yield return "--http-metrics needs --http-bind: give an address such as --http-bind=:8080";
        }
        if (options.SyncOnSignal.Length > 0 && SyncSignal.TryParse(options.SyncOnSignal) is null)
        {
            yield return $"--sync-on-signal '{options.SyncOnSignal}' is not a signal: give a name such as SIGHUP or HUP, or a number such as 1";
        }
        if (options.Verbosity < 0)
        {
            yield return $"-v {options.Verbosity} is negative: give 0 (updates and errors) up to 5 (everything)";
        }
        foreach (var error in SshTransport.Validate(options, Environment.GetEnvironmentVariable("PATH")))
        {
            yield return error;
        }
        foreach (var error in SignatureVerification.SignatureVerificationOptions.Validate(options))
        {
            yield return error;
        }
    }

    // git-sync's rules for the GitHub App flags, each with its fix.
    private static IEnumerable<string> GitHubAppErrors(GitSyncOptions options)
    {
        var named = options.GitHubAppApplicationId != 0 || options.GitHubAppClientId.Length > 0;
        if (!named)
        {
            if (options.GitHubAppApplicationId != 0 || options.GitHubAppInstallationId != 0)
            {
                yield return "--github-app-installation-id needs --github-app-client-id or --github-app-application-id, and the App's private key";
            }
            yield break;
        }
        if (options.GitHubAppApplicationId != 0 && options.GitHubAppClientId.Length > 0)
        {
            yield return "--github-app-application-id and --github-app-client-id are both set: keep one of them";
        }
        if (options.GitHubAppInstallationId == 0)
        {
            yield return "GitHub App auth needs --github-app-installation-id: give the installation's number";
        }
        if ((options.GitHubAppPrivateKey.Length > 0) == (options.GitHubAppPrivateKeyFile.Length > 0))
        {
            yield return "GitHub App auth needs exactly one of $GITSYNC_GITHUB_APP_PRIVATE_KEY or --github-app-private-key-file";
        }
        if (options.Username.Length > 0 || options.Password.Length > 0 || options.PasswordFile.Length > 0)
        {
            yield return "GitHub App auth and --username/$GITSYNC_PASSWORD/--password-file are both set: keep one of them";
        }
        if (!Uri.TryCreate(options.GitHubBaseUrl, UriKind.Absolute, out var api) || (api.Scheme != Uri.UriSchemeHttp && api.Scheme != Uri.UriSchemeHttps))
        {
            yield return $"--github-base-url '{options.GitHubBaseUrl}' is not an http(s) URL: write it like https://api.github.com/";
        }
    }

    /// <summary>True for <c>ssh://</c> and scp-like <c>[user@]host:path</c> URLs (see <see cref="SshTransport.IsSsh"/>).</summary>
    public static bool IsSsh(string repo) => SshTransport.IsSsh(repo);
}
