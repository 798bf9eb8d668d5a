using System.Globalization;
using System.Text;
using Sidecar.GitSync.Git;

namespace Sidecar.GitSync.CommandLine;

/// <summary>One flag: its name as git-sync spells it, the environment variable that also sets it, and how it applies.</summary>
public sealed record GitSyncFlag(string Name, string ValueName, string Help, string Default, Func<GitSyncOptions, string, string?> Apply,
    bool Repeatable = false, string? ShortName = null, string[]? LegacyVariables = null, bool Deprecated = false)
{
    /// <summary>The environment variable that sets this flag when the command line does not: <c>GITSYNC_</c> and the name in capitals.</summary>
    public string EnvironmentVariable => "GITSYNC_" + Name.Replace('-', '_').ToUpperInvariant();

    /// <summary>Every variable git-sync v4 reads for this flag, first wins: <see cref="EnvironmentVariable"/> (not for the v3-only flags), then v3's names.</summary>
    public IEnumerable<string> EnvironmentVariables => (Deprecated ? [] : new[] { EnvironmentVariable }).Concat(LegacyVariables ?? []);

    public bool IsSwitch => ValueName.Length == 0;
}

/// <summary>The result of reading the command line and the environment.</summary>
public sealed record GitSyncCommandLineResult(GitSyncOptions Options, IReadOnlyList<string> Errors, bool ShowHelp, bool ShowVersion = false, bool ShowManual = false);

/// <summary>
/// Reads git-sync v4's flags (<c>--flag=value</c> or <c>--flag value</c>) and their <c>GITSYNC_*</c>
/// environment variables; a flag on the command line wins over its variable.
/// </summary>
public static class GitSyncCommandLine
{
    public static readonly IReadOnlyList<GitSyncFlag> Flags =
    [
        new("repo", "URL", "The git repository to sync (https://, http://, ssh://, user@host:path, file:// or a local path). Required.", "",
            (o, v) => { o.Repo = v; return null; }, LegacyVariables: ["GIT_SYNC_REPO"]),
        new("root", "DIR", "The folder that holds .git, .worktrees/ and the link. Created if missing. Required.", "",
            (o, v) => { o.Root = v; return null; }, LegacyVariables: ["GIT_SYNC_ROOT"]),
        new("link", "PATH", "The symlink that points at the published snapshot; relative paths are under --root.", "last part of --repo",
            (o, v) => { o.Link = v; return null; }, LegacyVariables: ["GIT_SYNC_LINK"]),
        new("ref", "REF", "The branch, tag, full commit SHA or HEAD (the remote's default branch) to sync.", "HEAD",
            (o, v) => { o.Ref = v; return null; }),
        new("period", "DURATION", "How long to wait between syncs, e.g. 10s, 1m30s, 500ms.", "10s",
            (o, v) => GoDuration.TryParse(v, out var d) ? Set(() => o.Period = d) : $"--period '{v}' is not a duration: write it like 10s, 1m30s or 500ms", LegacyVariables: ["GIT_SYNC_PERIOD"]),
        new("depth", "N", "How many commits of history to fetch; 0 fetches all of it. Over SSH and from a local path or file:// all of it is always fetched (libgit2 1.8).", "1",
            (o, v) => int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? Set(() => o.Depth = n) : $"--depth '{v}' is not a whole number: give 0 (all history) or a positive count", LegacyVariables: ["GIT_SYNC_DEPTH"]),
        new("one-time", "", "Sync once and exit: 0 when the sync succeeded, 1 when it failed.", "false",
            (o, v) => ParseBool(v) is { } b ? Set(() => o.OneTime = b) : $"--one-time '{v}' is not true or false", LegacyVariables: ["GIT_SYNC_ONE_TIME"]),
        new("http-bind", "ADDRESS", "Serve GET / for readiness at this address, e.g. 127.0.0.1:8080 or :8080 (503 until the first sync).", "off",
            (o, v) => { o.HttpBind = v; return null; }, LegacyVariables: ["GIT_SYNC_HTTP_BIND"]),
        new("sync-timeout", "DURATION", "The longest one whole sync may take; a slower sync fails.", "120s",
            (o, v) => Duration("sync-timeout", v, d => o.SyncTimeout = d), LegacyVariables: ["GIT_SYNC_SYNC_TIMEOUT"]),
        new("max-failures", "N", "Consecutive failed syncs allowed before the process exits 1; -1 retries forever.", "0",
            (o, v) => Integer("max-failures", v, n => o.MaxFailures = n), LegacyVariables: ["GIT_SYNC_MAX_FAILURES"]),
        new("init-period", "DURATION", "The wait between attempts until the first success.", "--period",
            (o, v) => Duration("init-period", v, d => o.InitPeriod = d)),
        new("init-max-failures", "N", "Consecutive failures allowed before the first success; -1 retries forever.", "--max-failures",
            (o, v) => Integer("init-max-failures", v, n => o.InitMaxFailures = n)),
        new("stale-worktree-timeout", "DURATION", "How long a replaced snapshot is kept before it is removed.", "0",
            (o, v) => Duration("stale-worktree-timeout", v, d => o.StaleWorktreeTimeout = d)),
        new("publish-git-files", "", "Also publish files named .git* (.gitignore, .gitattributes, .github/...).", "false",
            (o, v) => Boolean("publish-git-files", v, b => o.PublishGitFiles = b)),
        new("webhook-url", "URL", "Call this URL after each publish, with header Gitsync-Hash: SHA.", "off",
            (o, v) => { o.WebhookUrl = v; return null; }, LegacyVariables: ["GIT_SYNC_WEBHOOK_URL"]),
        new("webhook-method", "METHOD", "The HTTP method of the webhook call.", "POST",
            (o, v) => { o.WebhookMethod = v; return null; }, LegacyVariables: ["GIT_SYNC_WEBHOOK_METHOD"]),
        new("webhook-success-status", "STATUS", "The status that counts as a successful webhook call; 0 fires and forgets.", "200",
            (o, v) => Integer("webhook-success-status", v, n => o.WebhookSuccessStatus = n), LegacyVariables: ["GIT_SYNC_WEBHOOK_SUCCESS_STATUS"]),
        new("webhook-timeout", "DURATION", "The longest one webhook call may take.", "1s",
            (o, v) => Duration("webhook-timeout", v, d => o.WebhookTimeout = d), LegacyVariables: ["GIT_SYNC_WEBHOOK_TIMEOUT"]),
        new("webhook-backoff", "DURATION", "The wait before a failed webhook call is tried again.", "3s",
            (o, v) => Duration("webhook-backoff", v, d => o.WebhookBackoff = d), LegacyVariables: ["GIT_SYNC_WEBHOOK_BACKOFF"]),
        new("exechook-command", "COMMAND", "Run this program (no arguments) in the snapshot after each publish, with GITSYNC_HASH set.", "off",
            (o, v) => { o.ExechookCommand = v; return null; }, LegacyVariables: ["GIT_SYNC_EXECHOOK_COMMAND"]),
        new("exechook-timeout", "DURATION", "The longest one exechook run may take.", "30s",
            (o, v) => Duration("exechook-timeout", v, d => o.ExechookTimeout = d), LegacyVariables: ["GIT_SYNC_EXECHOOK_TIMEOUT"]),
        new("exechook-backoff", "DURATION", "The wait before a failed exechook is run again.", "3s",
            (o, v) => Duration("exechook-backoff", v, d => o.ExechookBackoff = d), LegacyVariables: ["GIT_SYNC_EXECHOOK_BACKOFF"]),
        new("touch-file", "PATH", "Touch this file after each new publish; relative paths are under --root.", "off",
            (o, v) => { o.TouchFile = v; return null; }, LegacyVariables: ["GIT_SYNC_TOUCH_FILE"]),
        new("error-file", "PATH", "Write the last error here as JSON, removed after a good sync; relative paths are under --root.", "off",
            (o, v) => { o.ErrorFile = v; return null; }, LegacyVariables: ["GIT_SYNC_ERROR_FILE"]),
        new("sync-on-signal", "SIGNAL", "Sync now when this signal arrives, e.g. SIGHUP, HUP or 1.", "off",
            (o, v) => { o.SyncOnSignal = v; return null; }, LegacyVariables: ["GIT_SYNC_SYNC_ON_SIGNAL"]),
        new("group-write", "", "Make the object store, snapshots and link group-writable.", "false",
            (o, v) => Boolean("group-write", v, b => o.GroupWrite = b), LegacyVariables: ["GIT_SYNC_GROUP_WRITE"]),
        new("verbose", "N", "Log verbosity: 0 logs updates and errors, 2 each sync's decisions, 5 everything.", "0",
            (o, v) => Integer("verbose", v, n => o.Verbosity = n), ShortName: "v"),
        new("http-metrics", "", "Serve Prometheus metrics at /metrics on --http-bind.", "false",
            (o, v) => Boolean("http-metrics", v, b => o.HttpMetrics = b), LegacyVariables: ["GIT_SYNC_HTTP_METRICS"]),
        new("webhook-secret", "SECRET", "The shared secret POST /sync requires (GitHub X-Hub-Signature-256 or GitLab X-Gitlab-Token).", "off",
            (o, v) => { o.WebhookSecret = v; return null; }),
        new("username", "NAME", "The user name for HTTP(S) auth; the password comes from $GITSYNC_PASSWORD or --password-file.", "none",
            (o, v) => { o.Username = v; return null; }, LegacyVariables: ["GIT_SYNC_USERNAME"]),
        new("password-file", "PATH", "A file holding the HTTP(S) password or token, read again before every sync.", "none",
            (o, v) => { o.PasswordFile = v; return null; }, LegacyVariables: ["GIT_SYNC_PASSWORD_FILE"]),
        new("credential", "JSON", "{\"url\":..., \"username\":..., \"password\" or \"password-file\":...} (or a list of them) for URLs under url; may be repeated.", "none",
            ApplyCredential, Repeatable: true),
        new("ssh-key-file", "PATH", "The SSH private key(s) for SSH repos; may be repeated, or colon-separated in the variable. SSH needs ssh and /bin/sh in the image.", SshTransport.DefaultKeyFile,
            (o, v) => { o.SshKeyFiles.AddRange(v.Split(':', StringSplitOptions.RemoveEmptyEntries)); return null; }, Repeatable: true, LegacyVariables: ["GIT_SYNC_SSH_KEY_FILE", "GIT_SSH_KEY_FILE"]),
        new("ssh-known-hosts", "", "Check the SSH server's host key against --ssh-known-hosts-file; false accepts any host key.", "true",
            (o, v) => Boolean("ssh-known-hosts", v, b => o.SshKnownHosts = b), LegacyVariables: ["GIT_SYNC_KNOWN_HOSTS", "GIT_KNOWN_HOSTS"]),
        new("ssh-known-hosts-file", "PATH", "The known_hosts file holding the SSH server's host key.", "/etc/git-secret/known_hosts",
            (o, v) => { o.SshKnownHostsFile = v; return null; }, LegacyVariables: ["GIT_SYNC_SSH_KNOWN_HOSTS_FILE", "GIT_SSH_KNOWN_HOSTS_FILE"]),
        new("submodules", "MODE", "Check out submodules: recursive (all levels), shallow (the first level only) or off (empty folders). Fetched with --depth and the same credentials.", "recursive",
            ApplySubmodules, LegacyVariables: ["GIT_SYNC_SUBMODULES"]),
        new("sparse-checkout-file", "PATH", "A file of git sparse-checkout patterns (non-cone, gitignore syntax): only matching files are published. Read again for each new revision.", "off",
            (o, v) => { o.SparseCheckoutFile = v; return null; }, LegacyVariables: ["GIT_SYNC_SPARSE_CHECKOUT_FILE"]),
        new("git-gc", "MODE", "Repack the object store and its submodule stores after cleanup: auto (only past git's gc --auto thresholds: 50 packs or about 6,700 loose objects), always, aggressive (the same as always: libgit2 has no delta window or depth to raise) or off.", "always",
            ApplyGitGc, LegacyVariables: ["GIT_SYNC_GIT_GC"]),
        new("filter", "SPEC", "git's partial-clone filter (blob:none, tree:0, ...). Accepted; libgit2 cannot fetch without blobs, so --depth decides what is fetched (see docs/gitsync-options.md).", "none",
            (o, v) => { o.Filter = v; return null; }),
        new("git-config", "KEY:VALUE,...", "git config settings in git-sync's syntax, e.g. 'protocol.file.allow:always,http.sslVerify:false'; quote a key or value that holds a comma or colon.", "none",
            ApplyGitConfig, LegacyVariables: ["GIT_SYNC_GIT_CONFIG"]),
        new("askpass-url", "URL", "Before each sync, GET this URL for 'username=...' and 'password=...' lines: the credentials for --repo.", "none",
            (o, v) => { o.AskPassUrl = v; return null; }, LegacyVariables: ["GIT_SYNC_ASKPASS_URL", "GIT_ASKPASS_URL"]),
        new("cookie-file", "", "Send the cookies of /etc/git-secret/cookie_file (Netscape format) to the git server, as git's http.cookieFile.", "false",
            (o, v) => Boolean("cookie-file", v, b => o.CookieFile = b), LegacyVariables: ["GIT_SYNC_COOKIE_FILE", "GIT_COOKIE_FILE"]),
        new("github-base-url", "URL", "The GitHub API for GitHub App auth.", "https://api.github.com/",
            (o, v) => { o.GitHubBaseUrl = v; return null; }),
        new("github-app-private-key-file", "PATH", "The GitHub App's private key (PEM); or set $GITSYNC_GITHUB_APP_PRIVATE_KEY.", "none",
            (o, v) => { o.GitHubAppPrivateKeyFile = v; return null; }),
        new("github-app-client-id", "ID", "The GitHub App's client ID (or give --github-app-application-id).", "none",
            (o, v) => { o.GitHubAppClientId = v; return null; }),
        new("github-app-application-id", "N", "The GitHub App's application ID (or give --github-app-client-id).", "none",
            (o, v) => Integer("github-app-application-id", v, n => o.GitHubAppApplicationId = n)),
        new("github-app-installation-id", "N", "The installation of the GitHub App whose token is used.", "none",
            (o, v) => Integer("github-app-installation-id", v, n => o.GitHubAppInstallationId = n)),
        new("add-user", "", "Add an /etc/passwd entry for the running UID if it has none (ssh needs one).", "false",
            (o, v) => Boolean("add-user", v, b => o.AddUser = b), LegacyVariables: ["GIT_SYNC_ADD_USER"]),
        new("git", "PATH", "Accepted for git-sync's manifests; no git binary is run: git is libgit2, in-process.", "git",
            (o, v) => { o.GitCommand = v; return null; }, LegacyVariables: ["GIT_SYNC_GIT"]),
        new("http-pprof", "", "Accepted for git-sync's manifests; Go's pprof does not exist here: use dotnet-counters, dotnet-trace or the OTLP metrics.", "false",
            (o, v) => Boolean("http-pprof", v, b => o.HttpPprof = b), LegacyVariables: ["GIT_SYNC_HTTP_PPROF"]),
        new("password", "PASSWORD", "Deprecated: shows the password in process listings; set $GITSYNC_PASSWORD or give --password-file.", "none",
            (o, v) => { o.PasswordFromFlag = v; return null; }, Deprecated: true),
        new("verify-signatures", "MODE", "Verify the signature of each revision (the annotated tag, for a tag --ref) as git verify-commit/verify-tag do: off, audit (publish, and record the verdict) or enforce (publish only good signatures; keep the last good revision).", "off",
            SignatureVerification.SignatureVerificationOptions.Apply),
        new("allowed-signers-file", "PATH", "The SSH keys trusted to sign, in git's gpg.ssh.allowedSignersFile format (principals, options, key).", "none",
            (o, v) => { o.AllowedSignersFile = v; return null; }),
        new("openpgp-keys", "PATH", "A file, or a folder of files, of armored OpenPGP public keys trusted to sign.", "none",
            (o, v) => { o.OpenPgpKeys = v; return null; }),
        new("branch", "BRANCH", "Deprecated: use --ref.", "none",
            (o, v) => Deprecate(o, "ref", "branch", v, () => o.Ref = v), LegacyVariables: ["GIT_SYNC_BRANCH"], Deprecated: true),
        new("rev", "REV", "Deprecated: use --ref.", "none",
            (o, v) => Deprecate(o, "ref", "rev", v, () => o.Ref = v), LegacyVariables: ["GIT_SYNC_REV"], Deprecated: true),
        new("dest", "PATH", "Deprecated: use --link.", "none",
            (o, v) => Deprecate(o, "link", "dest", v, () => o.Link = v), LegacyVariables: ["GIT_SYNC_DEST"], Deprecated: true),
        new("wait", "SECONDS", "Deprecated: use --period.", "none",
            ApplyWait, LegacyVariables: ["GIT_SYNC_WAIT"], Deprecated: true),
        new("timeout", "SECONDS", "Deprecated: use --sync-timeout.", "none",
            (o, v) => int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                ? (n == 0 ? null : Deprecate(o, "sync-timeout", "timeout", v, () => o.SyncTimeout = TimeSpan.FromSeconds(n)))
                : $"--timeout '{v}' is not a whole number of seconds: give --sync-timeout=DURATION instead", LegacyVariables: ["GIT_SYNC_TIMEOUT"], Deprecated: true),
        new("max-sync-failures", "N", "Deprecated: use --max-failures.", "none",
            (o, v) => int.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)
                ? (n == 0 ? null : Deprecate(o, "max-failures", "max-sync-failures", v, () => o.MaxFailures = n))
                : $"--max-sync-failures '{v}' is not a whole number", LegacyVariables: ["GIT_SYNC_MAX_SYNC_FAILURES"], Deprecated: true),
        new("sync-hook-command", "COMMAND", "Deprecated: use --exechook-command.", "none",
            (o, v) => Deprecate(o, "exechook-command", "sync-hook-command", v, () => o.ExechookCommand = v), LegacyVariables: ["GIT_SYNC_HOOK_COMMAND"], Deprecated: true),
        new("change-permissions", "MODE", "Deprecated and no longer supported: use --group-write.", "none",
            (o, v) => v is "" or "0" ? null : $"--change-permissions is no longer supported (as in git-sync v4): remove it and give --group-write for group-writable files", LegacyVariables: ["GIT_SYNC_PERMISSIONS"], Deprecated: true),
        new("ssh", "", "Deprecated: no longer needed; SSH is used for ssh:// and user@host:path repos.", "false",
            (o, v) => null, Deprecated: true),
    ];

    /// <summary>What <c>--version</c> prints: this build's informational version.</summary>
    public static string Version =>
        typeof(GitSyncCommandLine).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "unknown";

    /// <summary>Environment variables read directly: secrets that must not be flags.</summary>
    public const string PasswordVariable = "GITSYNC_PASSWORD";

    /// <summary>The GitHub App's private key, as git-sync reads it: a variable only, never a flag.</summary>
    public const string GitHubAppPrivateKeyVariable = "GITSYNC_GITHUB_APP_PRIVATE_KEY";
    /// <summary>The bearer token the webhook sends, as a variable only, never a flag.</summary>
    public const string WebhookTokenVariable = "GITSYNC_WEBHOOK_TOKEN";

    public static GitSyncCommandLineResult Parse(IReadOnlyList<string> args, Func<string, string?> environment)
    {
        var options = new GitSyncOptions();
        var errors = new List<string>();
        var fromCommandLine = new Dictionary<GitSyncFlag, List<string>>();
        var showHelp = false;
        var showVersion = false;
        var showManual = false;

        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "-h" or "--help" or "-?")
            {
                showHelp = true;
                continue;
            }
            if (arg is "--version" or "--man")
            {
                showVersion |= arg == "--version";
                showManual |= arg == "--man";
                continue;
            }
            if (!arg.StartsWith('-'))
            {
                errors.Add($"unexpected argument '{arg}': every setting is a flag, such as --repo={arg}");
                continue;
            }
            var body = arg.TrimStart('-');
            var equals = body.IndexOf('=');
            var name = equals >= 0 ? body[..equals] : body;
            var flag = Flags.FirstOrDefault(f => f.Name == name.Replace('_', '-') || f.ShortName == name);
            if (flag is null)
            {
                errors.Add($"unknown flag '--{name}': run with --help to list the flags");
                continue;
            }
            string value;
            if (equals >= 0)
            {
                value = body[(equals + 1)..];
            }
            else if (flag.IsSwitch)
            {
                value = "true";
            }
            else if (i + 1 < args.Count)
            {
                value = args[++i];
            }
            else
            {
                errors.Add($"flag '--{flag.Name}' needs a value: write --{flag.Name}={flag.ValueName}");
                continue;
            }
            if (!fromCommandLine.TryGetValue(flag, out var values))
            {
                fromCommandLine[flag] = values = [];
            }
            values.Add(value);
        }

        foreach (var flag in Flags)
        {
            if (fromCommandLine.TryGetValue(flag, out var given))
            {
                // A repeatable flag keeps every value; any other takes its last one.
                foreach (var value in flag.Repeatable ? given : [given[^1]])
                {
                    if (flag.Apply(options, value) is { } error)
                    {
                        errors.Add(error);
                    }
                }
            }
            else if (flag.EnvironmentVariables.Select(v => (Name: v, Value: environment(v))).FirstOrDefault(v => v.Value is not null) is { Value: { } fromEnvironment } variable
                && flag.Apply(options, fromEnvironment) is { } error)
            {
                errors.Add($"{error} (from {variable.Name})");
            }
        }
        options.Password = environment(PasswordVariable) ?? environment("GIT_SYNC_PASSWORD") ?? "";
        if (options.PasswordFromFlag is { } flagPassword)
        {
            // As git-sync: the deprecated flag wins over the variable. Its value is never logged.
            options.Password = flagPassword;
            options.StartupNotices.Add($"--password shows the password to anyone who can list processes: set ${PasswordVariable} or give --password-file instead");
        }
        options.GitHubAppPrivateKey = environment(GitHubAppPrivateKeyVariable) ?? "";
        options.WebhookToken = environment(WebhookTokenVariable) ?? "";
        // As git-sync: an inherited $GIT_SSH_COMMAND is the ssh command the SSH flags are added to.
        options.SshCommand = environment(SshTransport.CommandVariable) is { Length: > 0 } sshCommand ? sshCommand : "ssh";
        Normalize(options);
        AddNotices(options);

        if (!showHelp)
        {
            errors.AddRange(Validate(options));
        }
        return new GitSyncCommandLineResult(options, errors, showHelp, showVersion, showManual);
    }

    /// <summary>Fills in what git-sync derives from other flags (the link from the repo URL); runs once, before <see cref="Validate"/>.</summary>
    public static void Normalize(GitSyncOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Link) && !string.IsNullOrWhiteSpace(options.Repo))
        {
            options.Link = GitSyncOptions.DefaultLinkFor(options.Repo);
        }
    }

    /// <summary>
    /// Checks what no single flag can: required flags and ranges, on options <see cref="Normalize"/> has completed. Each
    /// message names the value and the fix; the options are only read.
    /// </summary>
    public static IEnumerable<string> Validate(GitSyncOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Repo))
        {
            yield return "--repo is required: give the URL of the git repository to sync (or set GITSYNC_REPO)";
        }
        if (string.IsNullOrWhiteSpace(options.Root))
        {
            yield return "--root is required: give the folder to sync into (or set GITSYNC_ROOT)";
        }
        if (!string.IsNullOrWhiteSpace(options.Repo) && string.IsNullOrWhiteSpace(options.Link))
        {
            yield return $"--link could not be derived from --repo '{options.Repo}': set --link to a name such as 'current'";
        }
        if (options.Link is "." or ".." || options.Link.StartsWith(".worktrees", StringComparison.Ordinal) || options.Link.StartsWith(".git", StringComparison.Ordinal))
        {
            yield return $"--link '{options.Link}' would clash with the root's own entries: choose a name such as 'current'";
        }
        if (options.Period < TimeSpan.FromMilliseconds(10))
        {
            yield return $"--period {GoDuration.Format(options.Period)} is too short: give at least 10ms";
        }
        if (options.Depth < 0)
        {
            yield return $"--depth {options.Depth} is negative: give 0 (all history) or a positive count";
        }
        if (string.IsNullOrWhiteSpace(options.Ref))
        {
            yield return "--ref is empty: give a branch, a tag, a full commit SHA or HEAD";
        }
        if (options.HttpBind.Length > 0 && HttpBindAddress.TryParse(options.HttpBind) is null)
        {
            yield return $"--http-bind '{options.HttpBind}' is not an address: write HOST:PORT or :PORT, e.g. 127.0.0.1:8080";
        }
        foreach (var error in GitSyncOptionsValidation.Validate(options))
        {
            yield return error;
        }
    }

    public static string HelpText()
    {
        var text = new StringBuilder();
        text.AppendLine("Sidecar.GitSync: keeps a folder in step with a git repository, as kubernetes/git-sync v4 does.");
        text.AppendLine();
        text.AppendLine("Usage: Sidecar.GitSync --repo=URL --root=DIR [flags]");
        text.AppendLine();
        text.AppendLine("Every flag can also be set by its environment variable; the command line wins.");
        text.AppendLine($"The HTTP(S) password is read from ${PasswordVariable} or --password-file (the deprecated --password shows it in process listings).");
        text.AppendLine($"The GitHub App private key may also come from ${GitHubAppPrivateKeyVariable}. git-sync v3's GIT_SYNC_* variables are read too.");
        text.AppendLine($"The webhook sends ${WebhookTokenVariable}, when set, as 'Authorization: Bearer'; it too is never a flag.");
        text.AppendLine($"SSH repos run the system ssh client (and {SshTransport.Shell}); ${SshTransport.CommandVariable}, when set, is the ssh command the --ssh-* flags are added to.");
        text.AppendLine();
        foreach (var flag in Flags)
        {
            var head = (flag.ShortName is { } shortName ? $"-{shortName}, " : "") + (flag.IsSwitch ? $"--{flag.Name}" : $"--{flag.Name}={flag.ValueName}");
            var variable = flag.EnvironmentVariables.FirstOrDefault() is { } first ? "$" + first : "";
            text.AppendLine($"  {head,-24} {variable}");
            text.AppendLine($"      {flag.Help} (default: {flag.Default})");
        }
        text.AppendLine("  -h, --help, --man        print this text and exit");
        text.AppendLine("  --version                print the version and exit");
        text.AppendLine();
        text.AppendLine("Layout: ROOT/.git holds the objects, ROOT/.worktrees/SHA one read-only snapshot per");
        text.AppendLine("commit, and ROOT/LINK a relative symlink to the published one, swapped atomically.");
        return text.ToString();
    }

    private static string? Duration(string flag, string value, Action<TimeSpan> apply) =>
        GoDuration.TryParse(value, out var d) ? Set(() => apply(d)) : $"--{flag} '{value}' is not a duration: write it like 10s, 1m30s or 500ms";

    private static string? Integer(string flag, string value, Action<int> apply) =>
        int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? Set(() => apply(n)) : $"--{flag} '{value}' is not a whole number";

    private static string? Boolean(string flag, string value, Action<bool> apply) =>
        ParseBool(value) is { } b ? Set(() => apply(b)) : $"--{flag} '{value}' is not true or false";

    private static string? ApplyCredential(GitSyncOptions options, string value)
    {
        try
        {
            var trimmed = value.TrimStart();
            var credentials = trimmed.StartsWith('[')
                ? System.Text.Json.JsonSerializer.Deserialize(value, CredentialJson.Default.ListGitCredential) ?? []
                : [System.Text.Json.JsonSerializer.Deserialize(value, CredentialJson.Default.GitCredential)!];
            foreach (var credential in credentials)
            {
                if (credential.Url.Length == 0 || credential.Username.Length == 0 || (credential.Password is null) == (credential.PasswordFile is null))
                {
                    return "--credential needs \"url\", \"username\" and exactly one of \"password\" or \"password-file\", e.g. {\"url\":\"https://github.com\",\"username\":\"me\",\"password-file\":\"/creds/token\"}";
                }
                options.Credentials.Add(credential);
            }
            return null;
        }
        catch (System.Text.Json.JsonException e)
        {
            // The value may hold a password: name the position, not the text.
            return $"--credential is not valid JSON ({e.Message.Split('.')[0]}): write {{\"url\":\"https://host\",\"username\":\"me\",\"password-file\":\"/path\"}}";
        }
    }

    // One line each for the flags that are accepted but do something else here, logged at start.
    private static void AddNotices(GitSyncOptions options)
    {
        if (options.GitCommand is { } git && git != "git")
        {
            options.StartupNotices.Add($"--git={git} is not run: this sidecar does git in-process with libgit2 (LibGit2Sharp), so no git binary is needed or used");
        }
        if (options.HttpPprof)
        {
            options.StartupNotices.Add("--http-pprof serves nothing: Go's pprof does not exist in this .NET sidecar; profile it with dotnet-counters or dotnet-trace (EventPipe), or read its OTLP metrics");
        }
        if (options.CookieFile)
        {
            options.StartupNotices.Add($"--cookie-file: the cookies of {options.CookieFilePath} are not sent: libgit2 has no http.cookieFile, and LibGit2Sharp cannot add a header to the ref listing; authenticate with --credential, --username with --password-file, or --askpass-url");
        }
        if (options.Filter.Length > 0)
        {
            // Measured (bench/gitsync/filter.sh): git's blob:none clone plus its checkout receives what --depth=1 does.
            var allHistory = options.Depth == 0;
            options.Depth = allHistory ? 1 : options.Depth;
            options.StartupNotices.Add($"--filter={options.Filter}: libgit2 cannot fetch a partial clone, so every blob of the fetched commits is fetched; "
                + (allHistory
                    ? "--depth=0 becomes --depth=1, which receives the same bytes as git's partial clone and its checkout (the history's commits are not fetched)"
                    : $"--depth={options.Depth} limits that to the published commit's history, as git's checkout of a partial clone would fetch"));
        }
        foreach (var notice in options.GitConfigSettings.Notices())
        {
            options.StartupNotices.Add(notice);
        }
    }

    private static string? Deprecate(GitSyncOptions options, string replacement, string flag, string value, Action apply)
    {
        if (value.Length == 0)
        {
            return null;
        }
        apply();
        options.StartupNotices.Add($"setting --{replacement} from deprecated --{flag}: give --{replacement} instead");
        return null;
    }

    private static string? ApplyWait(GitSyncOptions options, string value)
    {
        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || seconds < 0)
        {
            return $"--wait '{value}' is not a number of seconds: give --period=DURATION instead, e.g. --period=10s";
        }
        return seconds == 0 ? null : Deprecate(options, "period", "wait", value, () => options.Period = TimeSpan.FromMilliseconds((int)(seconds * 1000)));
    }

    private static string? ApplyGitConfig(GitSyncOptions options, string value)
    {
        try
        {
            var entries = GitConfigFlag.Parse(value);
            if (entries.FirstOrDefault(e => e.Key.IndexOf('.') is <= 0 || e.Key.EndsWith('.')) is { } bad)
            {
                return $"--git-config key '{bad.Key}' is not a git config key: write section.name:value, e.g. http.sslVerify:false";
            }
            options.GitConfig = entries;
            return null;
        }
        catch (FormatException e)
        {
            return $"--git-config could not be read ({e.Message}): write key:value pairs separated by commas, e.g. 'protocol.file.allow:always,http.proxy:\"http://proxy:3128\"'";
        }
    }

    private static string? ApplyGitGc(GitSyncOptions options, string value)
    {
        GitGcMode? mode = value switch
        {
            "auto" => GitGcMode.Auto,
            "always" => GitGcMode.Always,
            "aggressive" => GitGcMode.Aggressive,
            "off" => GitGcMode.Off,
            _ => null,
        };
        return mode is { } m ? Set(() => options.GitGc = m) : $"--git-gc '{value}' is not a mode: give auto, always, aggressive or off";
    }

    private static string? ApplySubmodules(GitSyncOptions options, string value)
    {
        SubmoduleMode? mode = value switch
        {
            "recursive" => SubmoduleMode.Recursive,
            "shallow" => SubmoduleMode.Shallow,
            "off" => SubmoduleMode.Off,
            _ => null,
        };
        return mode is { } m ? Set(() => options.Submodules = m) : $"--submodules '{value}' is not a mode: give recursive, shallow or off";
    }

    private static string? Set(Action apply)
    {
        apply();
        return null;
    }

    private static bool? ParseBool(string value) => value.ToLowerInvariant() switch
    {
        "true" or "1" or "yes" or "" => true,
        "false" or "0" or "no" => false,
        _ => null,
    };
}

/// <summary>An <c>--http-bind</c> address: <c>HOST:PORT</c> or <c>:PORT</c> (all interfaces), as Go's net.Listen takes it.</summary>
public sealed record HttpBindAddress(string Host, int Port)
{
    public static HttpBindAddress? TryParse(string text)
    {
        var colon = text.LastIndexOf(':');
        if (colon < 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            return null;
        }
        var host = text[..colon].Trim('[', ']');
        return new HttpBindAddress(host.Length == 0 ? "0.0.0.0" : host, port);
    }

    public string Url => $"http://{(Host.Contains(':') ? $"[{Host}]" : Host)}:{Port}";
}
