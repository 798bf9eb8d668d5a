using System.Text;
using LibGit2Sharp;
using Sidecar.GitSync.Git;

namespace Sidecar.GitSync.CommandLine;

/// <summary>One <c>--git-config</c> setting: a git config key (<c>section[.subsection].name</c>) and its value.</summary>
public sealed record GitConfigEntry(string Key, string Value)
{
    /// <summary>The section (lower case), the subsection (as written, may be empty) and the name (lower case).</summary>
    public (string Section, string Subsection, string Name) Parts
    {
        get
        {
            var first = Key.IndexOf('.');
            var last = Key.LastIndexOf('.');
            return first < 0 || first == last
                ? (first < 0 ? Key : Key[..first].ToLowerInvariant(), "", first < 0 ? "" : Key[(last + 1)..].ToLowerInvariant())
                : (Key[..first].ToLowerInvariant(), Key[(first + 1)..last], Key[(last + 1)..].ToLowerInvariant());
        }
    }
}

/// <summary>
/// <c>--git-config</c> in git-sync's syntax: <c>key:value</c> pairs separated by commas. A key or value may be
/// quoted (<c>"k":"v, with comma"</c>); <c>\n \t \" \, \\</c> are escapes in values and quoted keys; a trailing
/// comma is allowed. A port of git-sync's <c>parseGitConfigs</c>, with its cases as tests.
/// </summary>
public static class GitConfigFlag
{
    /// <summary>Parses the flag; a malformed value throws <see cref="FormatException"/> naming what is wrong.</summary>
    public static IReadOnlyList<GitConfigEntry> Parse(string text)
    {
        var result = new List<GitConfigEntry>();
        var i = 0;
        while (i < text.Length)
        {
            string key;
            if (text[i] == '"')
            {
                i++;
                key = QuotedString(text, ref i);
                if (i >= text.Length)
                {
                    throw new FormatException($"unexpected end of key: \"{key}\"");
                }
                if (text[i] != ':')
                {
                    throw new FormatException($"unexpected character after quoted key: \"{key}\"{text[i]}");
                }
                i++;
            }
            else
            {
                var colon = text.IndexOf(':', i);
                if (colon < 0)
                {
                    throw new FormatException($"unexpected end of key: \"{text[i..]}\"");
                }
                // An unquoted key is taken as written, backslashes and commas included, as git-sync does.
                key = text[i..colon];
                i = colon + 1;
            }
            if (i >= text.Length)
            {
                throw new FormatException($"key \"{key}\": no value");
            }
            string value;
            if (text[i] == '"')
            {
                i++;
                value = QuotedString(text, ref i);
                if (i < text.Length)
                {
                    if (text[i] != ',')
                    {
                        throw new FormatException($"key \"{key}\": unexpected character after quoted value \"{value}\"{text[i]}");
                    }
                    i++;
                }
            }
            else
            {
                var buffer = new StringBuilder();
                for (; i < text.Length && text[i] != ','; i++)
                {
                    buffer.Append(text[i] == '\\' ? Unescape(text, ref i) : text[i]);
                }
                i++;
                value = buffer.ToString();
            }
            result.Add(new GitConfigEntry(key, value));
        }
        return result;
    }

    // Reads up to the closing quote (i is just past the opening one) and leaves i just past the closing one.
    private static string QuotedString(string text, ref int i)
    {
        var buffer = new StringBuilder();
        for (; i < text.Length; i++)
        {
            if (text[i] == '"')
            {
                i++;
                return buffer.ToString();
            }
            buffer.Append(text[i] == '\\' ? Unescape(text, ref i) : text[i]);
        }
        throw new FormatException($"unexpected end of quoted string: \"{buffer}\"");
    }

    private static char Unescape(string text, ref int i)
    {
        if (++i >= text.Length)
        {
            throw new FormatException("unexpected end of escape sequence");
        }
        return text[i] switch
        {
            'n' => '\n',
            't' => '\t',
            '"' or ',' or '\\' => text[i],
            var other => throw new FormatException($"unsupported escape character: '{other}'"),
        };
    }
}

/// <summary>
/// The <c>--git-config</c> settings as this sidecar applies them. git-sync writes them to a private global git config;
/// here they go to <c>gitsync-config</c>, included from the config of <c>ROOT/.git</c> and of each submodule store,
/// where libgit2 reads <c>http.proxy</c>, <c>remote.origin.proxy</c> and <c>url.BASE.insteadOf</c> itself. The keys
/// libgit2 does not read are applied here: <c>http.sslVerify</c> (a certificate check), <c>protocol.*.allow</c>
/// (which submodule URLs are fetched) and <c>safe.directory</c>.
/// </summary>
public sealed class GitConfigSettings(IReadOnlyList<GitConfigEntry> entries)
{
    /// <summary>The file, next to the store's <c>config</c>, that holds the settings.</summary>
    public const string FileName = "gitsync-config";

    public IReadOnlyList<GitConfigEntry> Entries { get; } = entries;

    /// <summary>The last value given for <paramref name="key"/> (section and name case-insensitive), as git reads a single-valued key.</summary>
    public string? Get(string key)
    {
        var wanted = new GitConfigEntry(key, "").Parts;
        return Entries.LastOrDefault(e => e.Parts == wanted)?.Value;
    }

    /// <summary><c>http.sslVerify</c>, read as git reads a boolean; true unless set false.</summary>
    public bool SslVerify => Get("http.sslVerify") is not { } value || GitBoolean(value) != false;

    /// <summary>
    /// Whether a submodule URL of this scheme may be fetched, as git decides for a submodule (not from the user):
    /// <c>protocol.NAME.allow</c>, else <c>protocol.allow</c>, else git's default: always for http, https, ssh and git,
    /// user (which refuses submodules) for file and anything else.
    /// </summary>
    public bool SubmoduleProtocolAllowed(string scheme) => ProtocolPolicy(scheme) == "always";

    /// <summary>Whether <c>--repo</c> of this scheme may be fetched: only <c>never</c> refuses what the user gave.</summary>
    public bool RepoProtocolAllowed(string scheme) => ProtocolPolicy(scheme) != "never";

    private string ProtocolPolicy(string scheme) =>
        (Get($"protocol.{scheme}.allow") ?? Get("protocol.allow") ?? (scheme is "http" or "https" or "ssh" or "git" ? "always" : "user")).ToLowerInvariant();

    /// <summary>The scheme git names a URL's transport by: <c>file</c> for a local path, <c>ssh</c> for scp-like addresses.</summary>
    public static string SchemeOf(string url) =>
        SshTransport.IsSsh(url) ? "ssh"
        : url.StartsWith("file://", StringComparison.OrdinalIgnoreCase) || !url.Contains("://", StringComparison.Ordinal) ? "file"
        : url[..url.IndexOf("://", StringComparison.Ordinal)].ToLowerInvariant();

    /// <summary>Rewrites <paramref name="url"/> by the longest matching <c>url.BASE.insteadOf</c> prefix, as git (and libgit2) do.</summary>
    public string Rewrite(string url)
    {
        var best = Entries
            .Where(e => e.Parts is { Section: "url", Name: "insteadof" } && e.Value.Length > 0 && url.StartsWith(e.Value, StringComparison.Ordinal))
            .MaxBy(e => e.Value.Length);
        return best is null ? url : best.Parts.Subsection + url[best.Value.Length..];
    }

    /// <summary>
    /// libgit2 refuses a repository owned by another user unless <c>safe.directory</c> (global config) allows it.
    /// git-sync sets <c>safe.directory=*</c> by default; so the check stays off unless the values given name neither
    /// <c>*</c> nor the root.
    /// </summary>
    public bool TrustsOwnerOf(string root)
    {
        var values = Entries.Where(e => e.Parts is { Section: "safe", Name: "directory" }).Select(e => e.Value).ToList();
        var full = Path.GetFullPath(root).TrimEnd('/');
        return values.Count == 0 || values.Any(v => v == "*" || Path.GetFullPath(v).TrimEnd('/') == full
            || Path.GetFullPath(v).TrimEnd('/') == full + "/.git");
    }

    /// <summary>Keys that do nothing here, each with what this sidecar does instead; logged once at start.</summary>
    public IEnumerable<string> Notices()
    {
        if (Get("core.sshCommand") is not null)
        {
            yield return "--git-config core.sshCommand is not used, as in git-sync (which always sets $GIT_SSH_COMMAND): the ssh command is $GIT_SSH_COMMAND (or ssh) with the --ssh-* flags";
        }
    }

    /// <summary>
    /// Writes the settings to <see cref="FileName"/> in <paramref name="gitDirectory"/> and includes it from the store's
    /// config; with no settings, removes the file, so a flag dropped at restart leaves nothing behind.
    /// </summary>
    public void ApplyTo(string gitDirectory)
    {
        using var repository = new Repository(gitDirectory);
        ApplyTo(repository);
    }

    /// <inheritdoc cref="ApplyTo(string)"/>
    public void ApplyTo(Repository repository)
    {
        var path = Path.Combine(repository.Info.Path, FileName);
        var applied = Entries.Where(e => !e.Key.Equals("core.sshCommand", StringComparison.OrdinalIgnoreCase)).ToList();
        if (applied.Count == 0)
        {
            File.Delete(path);
            return;
        }
        var content = Render(applied);
        if (!File.Exists(path) || File.ReadAllText(path) != content)
        {
            File.WriteAllText(path, content);
        }
        var includes = repository.Config.OfType<ConfigurationEntry<string>>()
            .Where(e => e.Level == ConfigurationLevel.Local && e.Key == "include.path").Select(e => e.Value);
        if (!includes.Contains(FileName))
        {
            repository.Config.Add("include.path", FileName, ConfigurationLevel.Local);
        }
    }

    // The git config file syntax: one section per key, the value quoted with its escapes.
    private static string Render(IEnumerable<GitConfigEntry> entries)
    {
        var text = new StringBuilder("# Written from --git-config at each start; edits here are replaced.\n");
        foreach (var entry in entries)
        {
            var (section, subsection, name) = entry.Parts;
            text.Append('[').Append(section);
            if (subsection.Length > 0)
            {
                text.Append(" \"").Append(subsection.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)).Append('"');
            }
            text.Append("]\n\t").Append(name).Append(" = \"")
                .Append(entry.Value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)
                    .Replace("\n", "\\n", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal))
                .Append("\"\n");
        }
        return text.ToString();
    }

    private static bool? GitBoolean(string value) => value.Trim().ToLowerInvariant() switch
    {
        "true" or "yes" or "on" or "1" or "" => true,
        "false" or "no" or "off" or "0" => false,
        _ => null,
    };
}
