using System.Globalization;
using System.Text;

namespace Sidecar.GitSync;

/// <summary>One flag: its name as git-sync spells it, the environment variable that also sets it, and how it applies.</summary>
public sealed record GitSyncFlag(string Name, string ValueName, string Help, string Default, Func<GitSyncOptions, string, string?> Apply)
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
        new("repo", "URL", "The git repository to sync (https://, ssh://, git@host:path, file:// or a local path). Required.", "",
            (o, v) => { o.Repo = v; return null; }),
        new("root", "DIR", "The folder that holds .git, .worktrees/ and the link. Created if missing. Required.", "",
            (o, v) => { o.Root = v; return null; }),
        new("link", "PATH", "The symlink that points at the published snapshot; relative paths are under --root.", "last part of --repo",
            (o, v) => { o.Link = v; return null; }),
        new("ref", "REF", "The branch, tag, full commit SHA or HEAD (the remote's default branch) to sync.", "HEAD",
            (o, v) => { o.Ref = v; return null; }),
        new("period", "DURATION", "How long to wait between syncs, e.g. 10s, 1m30s, 500ms.", "10s",
            (o, v) => GoDuration.TryParse(v, out var d) ? Set(() => o.Period = d) : $"--period '{v}' is not a duration: write it like 10s, 1m30s or 500ms"),
        new("depth", "N", "How many commits of history to fetch; 0 fetches all of it.", "1",
            (o, v) => int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? Set(() => o.Depth = n) : $"--depth '{v}' is not a whole number: give 0 (all history) or a positive count"),
        new("one-time", "", "Sync once and exit: 0 when the sync succeeded, 1 when it failed.", "false",
            (o, v) => ParseBool(v) is { } b ? Set(() => o.OneTime = b) : $"--one-time '{v}' is not true or false"),
        new("http-bind", "ADDRESS", "Serve GET / for readiness at this address, e.g. 127.0.0.1:8080 or :8080 (503 until the first sync).", "off",
            (o, v) => { o.HttpBind = v; return null; }),
    ];

    public static GitSyncCommandLineResult Parse(IReadOnlyList<string> args, Func<string, string?> environment)
    {
        var options = new GitSyncOptions();
        var errors = new List<string>();
        var fromCommandLine = new Dictionary<GitSyncFlag, string>();
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
            var flag = Flags.FirstOrDefault(f => f.Name == name.Replace('_', '-'));
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
            fromCommandLine[flag] = value;
        }

        foreach (var flag in Flags)
        {
            var value = fromCommandLine.TryGetValue(flag, out var given) ? given : environment(flag.EnvironmentVariable);
            if (value is not null && flag.Apply(options, value) is { } error)
            {
                errors.Add(fromCommandLine.ContainsKey(flag) ? error : $"{error} (from {flag.EnvironmentVariable})");
            }
        }

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
    }

    public static string HelpText()
    {
        var text = new StringBuilder();
        text.AppendLine("Sidecar.GitSync: keeps a folder in step with a git repository, as kubernetes/git-sync v4 does.");
        text.AppendLine();
        text.AppendLine("Usage: Sidecar.GitSync --repo=URL --root=DIR [flags]");
        text.AppendLine();
        text.AppendLine("Every flag can also be set by its environment variable; the command line wins.");
        text.AppendLine();
        foreach (var flag in Flags)
        {
            var head = flag.IsSwitch ? $"--{flag.Name}" : $"--{flag.Name}={flag.ValueName}";
            text.AppendLine($"  {head,-24} ${flag.EnvironmentVariable}");
            text.AppendLine($"      {flag.Help} (default: {flag.Default})");
        }
        text.AppendLine();
        text.AppendLine("Layout: ROOT/.git holds the objects, ROOT/.worktrees/SHA one read-only snapshot per");
        text.AppendLine("commit, and ROOT/LINK a relative symlink to the published one, swapped atomically.");
        return text.ToString();
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
