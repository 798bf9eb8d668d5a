using System.Text;

namespace Sidecar.GitSync.Git;

/// <summary>One <c>[submodule "NAME"]</c> section of a <c>.gitmodules</c> file.</summary>
public sealed record GitModule(string Name, string Path, string Url);

/// <summary>
/// Reads <c>.gitmodules</c>, which is a git config file: <c>[submodule "NAME"]</c> sections with
/// <c>path</c> and <c>url</c> keys (names case-insensitive), <c>#</c> and <c>;</c> comments, quoted
/// values and backslash escapes. Only what submodules need is read; other sections are ignored.
/// </summary>
public static class GitModules
{
    public static IReadOnlyList<GitModule> Parse(string text)
    {
        var sections = new List<(string Name, Dictionary<string, string> Keys)>();
        Dictionary<string, string>? current = null;
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine.Trim();
            if (line.Length == 0 || line[0] is '#' or ';')
            {
                continue;
            }
            if (line[0] == '[')
            {
                current = null;
                if (ParseSubmoduleHeader(line) is { } name)
                {
                    current = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                    sections.Add((name, current));
                }
                continue;
            }
            if (current is null)
            {
                continue;
            }
            var equals = line.IndexOf('=');
            var key = (equals < 0 ? line : line[..equals]).Trim();
            current[key] = equals < 0 ? "true" : ParseValue(line[(equals + 1)..]);
        }
        // As git, a later section of the same name adds to (and overrides keys of) the earlier one.
        return sections
            .GroupBy(s => s.Name, StringComparer.Ordinal)
            .Select(g =>
            {
                var keys = g.SelectMany(s => s.Keys).GroupBy(k => k.Key, StringComparer.OrdinalIgnoreCase).ToDictionary(k => k.Key, k => k.Last().Value, StringComparer.OrdinalIgnoreCase);
                return new GitModule(g.Key, keys.GetValueOrDefault("path", ""), keys.GetValueOrDefault("url", ""));
            })
            .ToList();
    }

    // [submodule "NAME"] with \" and \\ escapes in NAME; null for any other section.
    private static string? ParseSubmoduleHeader(string line)
    {
        var close = line.LastIndexOf(']');
        if (close < 0)
        {
            return null;
        }
        var inside = line[1..close].Trim();
        var space = inside.IndexOfAny([' ', '\t']);
        if (space < 0 || !inside[..space].Equals("submodule", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var quoted = inside[space..].Trim();
        if (quoted.Length < 2 || quoted[0] != '"' || quoted[^1] != '"')
        {
            return null;
        }
        var name = new StringBuilder();
        for (var i = 1; i < quoted.Length - 1; i++)
        {
            if (quoted[i] == '\\' && i + 1 < quoted.Length - 1)
            {
                i++;
            }
            name.Append(quoted[i]);
        }
        return name.ToString();
    }

    // A config value: quotes group, backslash escapes, and # or ; outside quotes start a comment.
    private static string ParseValue(string raw)
    {
        var value = new StringBuilder();
        var inQuotes = false;
        var pendingSpace = 0;
        var started = false;
        for (var i = 0; i < raw.Length; i++)
        {
            var c = raw[i];
            if (!inQuotes && c is '#' or ';')
            {
                break;
            }
            if (!inQuotes && c is ' ' or '\t' or '\r')
            {
                if (started)
                {
                    pendingSpace++;
                }
                continue;
            }
            value.Append(' ', pendingSpace);
            pendingSpace = 0;
            started = true;
            if (c == '"')
            {
                inQuotes = !inQuotes;
                continue;
            }
            if (c == '\\' && i + 1 < raw.Length)
            {
                var next = raw[++i];
                value.Append(next switch { 'n' => '\n', 't' => '\t', 'b' => '\b', _ => next });
                continue;
            }
            value.Append(c);
        }
        return value.ToString();
    }

    /// <summary>
    /// Resolves a submodule URL as git does: <c>./x</c> and <c>../x</c> are relative to the URL of the
    /// repository whose <c>.gitmodules</c> names them (each <c>../</c> drops one part of it); others are taken as they are.
    /// </summary>
    public static string ResolveUrl(string url, string parentUrl)
    {
        if (!url.StartsWith("./", StringComparison.Ordinal) && !url.StartsWith("../", StringComparison.Ordinal))
        {
            return url;
        }
        var baseUrl = parentUrl.TrimEnd('/');
        var rest = url;
        while (true)
        {
            if (rest.StartsWith("./", StringComparison.Ordinal))
            {
                rest = rest[2..];
            }
            else if (rest.StartsWith("../", StringComparison.Ordinal))
            {
                rest = rest[3..];
                var slash = baseUrl.LastIndexOf('/');
                var scheme = baseUrl.IndexOf("://", StringComparison.Ordinal);
                if (slash < 0 || (scheme >= 0 && slash < scheme + 3) || baseUrl.EndsWith("://", StringComparison.Ordinal))
                {
                    throw new SyncException($"the submodule URL '{url}' climbs above '{RepositoryUrl.ForLogs(parentUrl)}': fix its url in .gitmodules");
                }
                baseUrl = baseUrl[..slash];
            }
            else
            {
                break;
            }
        }
        return baseUrl + "/" + rest;
    }
}
