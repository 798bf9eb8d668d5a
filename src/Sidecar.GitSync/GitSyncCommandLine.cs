using System.Globalization;
using System.Text;

namespace Sidecar.GitSync;

/// <summary>One flag: its name as git-sync spells it, the environment variable that also sets it, and how it applies.</summary>
public sealed record GitSyncFlag(string Name, string ValueName, string Help, string Default, Func<GitSyncOptions, string, string?> Apply,
    bool Repeatable = false, string? ShortName = null)
{
    /// <summary>The environment variable that sets this flag when the command line does not: <c>GITSYNC_</c> and the name in capitals.</summary>
    public string EnvironmentVariable => "GITSYNC_" + Name.Replace('-', '_').ToUpperInvariant();

    public bool IsSwitch => ValueName.Length == 0;
}

/// <summary>The result of reading the command line and the environment.</summary>
public sealed record GitSyncCommandLineResult(GitSyncOptions Options, IReadOnlyList<string> Errors, bool ShowHelp);

/// <summary>
/// Reads git-sync v4's flags (<c>--flag=value</c> or <c>--flag value</c>) and their <c>GITSYNC_*</c>
/// environment variables; a flag on the command line wins over its variable.
/// </summary>
public static class GitSyncCommandLine
{
    public static readonly IReadOnlyList<GitSyncFlag> Flags =
    [
        new("repo", "URL", "The git repository to sync (https://, http://, ssh://, user@host:path, file:// or a local path). Required.", "",
            (o, v) => { o.Repo = v; return null; }),
        new("root", "DIR", "The folder that holds .git, .worktrees/ and the link. Created if missing. Required.", "",
            (o, v) => { o.Root = v; return null; }),
        new("link", "PATH", "The symlink that points at the published snapshot; relative paths are under --root.", "last part of --repo",
            (o, v) => { o.Link = v; return null; }),
        new("ref", "REF", "The branch, tag, full commit SHA or HEAD (the remote's default branch) to sync.", "HEAD",
            (o, v) => { o.Ref = v; return null; }),
        new("period", "DURATION", "How long to wait between syncs, e.g. 10s, 1m30s, 500ms.", "10s",
            (o, v) => GoDuration.TryParse(v, out var d) ? Set(() => o.Period = d) : $"--period '{v}' is not a duration: write it like 10s, 1m30s or 500ms"),
        new("depth", "N", "How many commits of history to fetch; 0 fetches all of it. Over SSH and from a local path or file:// all of it is always fetched (libgit2 1.8).", "1",
            (o, v) => int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? Set(() => o.Depth = n) : $"--depth '{v}' is not a whole number: give 0 (all history) or a positive count"),
        new("one-time", "", "Sync once and exit: 0 when the sync succeeded, 1 when it failed.", "false",
            (o, v) => ParseBool(v) is { } b ? Set(() => o.OneTime = b) : $"--one-time '{v}' is not true or false"),
        new("http-bind", "ADDRESS", "Serve GET / for readiness at this address, e.g. 127.0.0.1:8080 or :8080 (503 until the first sync).", "off",
            (o, v) => { o.HttpBind = v; return null; }),
        new("sync-timeout", "DURATION", "The longest one whole sync may take; a slower sync fails.", "120s",
            (o, v) => Duration("sync-timeout", v, d => o.SyncTimeout = d)),
        new("max-failures", "N", "Consecutive failed syncs allowed before the process exits 1; -1 retries forever.", "0",
            (o, v) => Integer("max-failures", v, n => o.MaxFailures = n)),
        new("init-period", "DURATION", "The wait between attempts until the first success.", "--period",
            (o, v) => Duration("init-period", v, d => o.InitPeriod = d)),
        new("init-max-failures", "N", "Consecutive failures allowed before the first success; -1 retries forever.", "--max-failures",
            (o, v) => Integer("init-max-failures", v, n => o.InitMaxFailures = n)),
        new("stale-worktree-timeout", "DURATION", "How long a replaced snapshot is kept before it is removed.", "0",
            (o, v) => Duration("stale-worktree-timeout", v, d => o.StaleWorktreeTimeout = d)),
        new("publish-git-files", "", "Also publish files named .git* (.gitignore, .gitattributes, .github/...).", "false",
            (o, v) => Boolean("publish-git-files", v, b => o.PublishGitFiles = b)),
        new("webhook-url", "URL", "Call this URL after each publish, with header Gitsync-Hash: SHA.", "off",
            (o, v) => { o.WebhookUrl = v; return null; }),
        new("webhook-method", "METHOD", "The HTTP method of the webhook call.", "POST",
            (o, v) => { o.WebhookMethod = v; return null; }),
        new("webhook-success-status", "STATUS", "The status that counts as a successful webhook call; 0 fires and forgets.", "200",
            (o, v) => Integer("webhook-success-status", v, n => o.WebhookSuccessStatus = n)),
        new("webhook-timeout", "DURATION", "The longest one webhook call may take.", "1s",
            (o, v) => Duration("webhook-timeout", v, d => o.WebhookTimeout = d)),
        new("webhook-backoff", "DURATION", "The wait before a failed webhook call is tried again.", "3s",
            (o, v) => Duration("webhook-backoff", v, d => o.WebhookBackoff = d)),
        new("exechook-command", "COMMAND", "Run this program (no arguments) in the snapshot after each publish, with GITSYNC_HASH set.", "off",
            (o, v) => { o.ExechookCommand = v; return null; }),
        new("exechook-timeout", "DURATION", "The longest one exechook run may take.", "30s",
            (o, v) => Duration("exechook-timeout", v, d => o.ExechookTimeout = d)),
        new("exechook-backoff", "DURATION", "The wait before a failed exechook is run again.", "3s",
            (o, v) => Duration("exechook-backoff", v, d => o.ExechookBackoff = d)),
        new("touch-file", "PATH", "Touch this file after each new publish; relative paths are under --root.", "off",
            (o, v) => { o.TouchFile = v; return null; }),
        new("error-file", "PATH", "Write the last error here as JSON, removed after a good sync; relative paths are under --root.", "off",
            (o, v) => { o.ErrorFile = v; return null; }),
        new("sync-on-signal", "SIGNAL", "Sync now when this signal arrives, e.g. SIGHUP, HUP or 1.", "off",
            (o, v) => { o.SyncOnSignal = v; return null; }),
        new("group-write", "", "Make the object store, snapshots and link group-writable.", "false",
            (o, v) => Boolean("group-write", v, b => o.GroupWrite = b)),
        new("verbose", "N", "Log verbosity: 0 logs updates and errors, 2 each sync's decisions, 5 everything.", "0",
            (o, v) => Integer("verbose", v, n => o.Verbosity = n), ShortName: "v"),
        new("http-metrics", "", "Serve Prometheus metrics at /metrics on --http-bind.", "false",
            (o, v) => Boolean("http-metrics", v, b => o.HttpMetrics = b)),
        new("webhook-secret", "SECRET", "The shared secret POST /sync requires (GitHub X-Hub-Signature-256 or GitLab X-Gitlab-Token).", "off",
            (o, v) => { o.WebhookSecret = v; return null; }),
        new("username", "NAME", "The user name for HTTP(S) auth; the password comes from $GITSYNC_PASSWORD or --password-file.", "none",
            (o, v) => { o.Username = v; return null; }),
        new("password-file", "PATH", "A file holding the HTTP(S) password or token, read again before every sync.", "none",
            (o, v) => { o.PasswordFile = v; return null; }),
        new("credential", "JSON", "{\"url\":..., \"username\":..., \"password\" or \"password-file\":...} (or a list of them) for URLs under url; may be repeated.", "none",
            ApplyCredential, Repeatable: true),
        new("ssh-key-file", "PATH", "The SSH private key(s) for SSH repos; may be repeated, or colon-separated in the variable. SSH needs ssh and /bin/sh in the image.", SshTransport.DefaultKeyFile,
            (o, v) => { o.SshKeyFiles.AddRange(v.Split(':', StringSplitOptions.RemoveEmptyEntries)); return null; }, Repeatable: true),
        new("ssh-known-hosts", "", "Check the SSH server's host key against --ssh-known-hosts-file; false accepts any host key.", "true",
            (o, v) => Boolean("ssh-known-hosts", v, b => o.SshKnownHosts = b)),
        new("ssh-known-hosts-file", "PATH", "The known_hosts file holding the SSH server's host key.", "/etc/git-secret/known_hosts",
            (o, v) => { o.SshKnownHostsFile = v; return null; }),
        new("submodules", "MODE", "Check out submodules: recursive (all levels), shallow (the first level only) or off (empty folders). Fetched with --depth and the same credentials.", "recursive",
            (o, v) => { o.Submodules = v; return null; }),
        new("sparse-checkout-file", "PATH", "A file of git sparse-checkout patterns (non-cone, gitignore syntax): only matching files are published. Read again for each new revision.", "off",
            (o, v) => { o.SparseCheckoutFile = v; return null; }),
        new("git-gc", "MODE", "Repack the object store and its submodule stores after cleanup: auto (only past git's gc --auto thresholds: 50 packs or about 6,700 loose objects), always, aggressive (the same as always: libgit2 has no delta window or depth to raise) or off.", "auto",
            ApplyGitGc),
    ];

    /// <summary>Environment variables read directly: secrets that must not be flags.</summary>
    public const string PasswordVariable = "GITSYNC_PASSWORD";

    public const string WebhookTokenVariable = "GITSYNC_WEBHOOK_TOKEN";

    public static GitSyncCommandLineResult Parse(IReadOnlyList<string> args, Func<string, string?> environment)
    {
        var options = new GitSyncOptions();
        var errors = new List<string>();
        var fromCommandLine = new Dictionary<GitSyncFlag, List<string>>();
        var showHelp = false;

        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "-h" or "--help" or "-?")
            {
                showHelp = true;
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
            if (name == "password")
            {
                errors.Add($"--password is not a flag, so the secret stays out of process listings: set ${PasswordVariable} or give --password-file");
                continue;
            }
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
            else if (environment(flag.EnvironmentVariable) is { } fromEnvironment && flag.Apply(options, fromEnvironment) is { } error)
            {
                errors.Add($"{error} (from {flag.EnvironmentVariable})");
            }
        }
        options.Password = environment(PasswordVariable) ?? "";
        options.WebhookToken = environment(WebhookTokenVariable) ?? "";
        // As git-sync: an inherited $GIT_SSH_COMMAND is the ssh command the SSH flags are added to.
        options.SshCommand = environment(SshTransport.CommandVariable) is { Length: > 0 } sshCommand ? sshCommand : "ssh";

        if (!showHelp)
        {
            errors.AddRange(Validate(options));
        }
        return new GitSyncCommandLineResult(options, errors, showHelp);
    }

    /// <summary>Checks what no single flag can: required flags and ranges. Each message names the value and the fix.</summary>
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
        if (string.IsNullOrWhiteSpace(options.Link) && !string.IsNullOrWhiteSpace(options.Repo))
        {
            options.Link = GitSyncOptions.DefaultLinkFor(options.Repo);
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
        text.AppendLine($"The HTTP(S) password is read from ${PasswordVariable} (or --password-file), never from a flag.");
        text.AppendLine($"The webhook sends ${WebhookTokenVariable}, when set, as 'Authorization: Bearer'; it too is never a flag.");
        text.AppendLine($"SSH repos run the system ssh client (and {SshTransport.Shell}); ${SshTransport.CommandVariable}, when set, is the ssh command the --ssh-* flags are added to.");
        text.AppendLine();
        foreach (var flag in Flags)
        {
            var head = (flag.ShortName is { } shortName ? $"-{shortName}, " : "") + (flag.IsSwitch ? $"--{flag.Name}" : $"--{flag.Name}={flag.ValueName}");
            text.AppendLine($"  {head,-24} ${flag.EnvironmentVariable}");
            text.AppendLine($"      {flag.Help} (default: {flag.Default})");
        }
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
