using Sidecar.GitSync.Git;

namespace Sidecar.GitSync.Snapshots;

/// <summary>
/// The patterns of a <c>--sparse-checkout-file</c>, with git's non-cone semantics (gitignore syntax):
/// <c>#</c> comments and blank lines are skipped, <c>!</c> negates, a leading <c>/</c> anchors to the
/// root, a pattern with a <c>/</c> inside is matched against the whole path and one without against
/// the name at any depth, a trailing <c>/</c> matches folders only, and the last matching pattern wins.
/// A path no pattern decides takes the decision of its folder, so a pattern that matches a folder takes
/// in (or leaves out) everything below it, as git's unpack-trees does; the root's decision is "out".
/// </summary>
public sealed class SparseCheckoutPatterns
{
    private readonly IReadOnlyList<Pattern> patterns;

    private SparseCheckoutPatterns(IReadOnlyList<Pattern> patterns) => this.patterns = patterns;

    /// <summary>How many patterns the file holds (comments and blank lines not counted).</summary>
    public int Count => patterns.Count;

    /// <summary>Reads the pattern file; a bad file or pattern is a <see cref="SyncException"/> naming the file, the line and the fix.</summary>
    public static SparseCheckoutPatterns Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SyncException($"--sparse-checkout-file '{path}' could not be read ({e.Message}): give a readable file of git sparse-checkout patterns");
        }
        return Parse(text, path);
    }

    /// <summary>Parses pattern text; <paramref name="source"/> names it in errors.</summary>
    public static SparseCheckoutPatterns Parse(string text, string source)
    {
        var result = new List<Pattern>();
        var lines = text.TrimStart('\uFEFF').Split('\n');
        for (var number = 1; number <= lines.Length; number++)
        {
            var line = TrimTrailingSpaces(lines[number - 1].TrimEnd('\r'));
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }
            var negated = line[0] == '!';
            var body = negated ? line[1..] : line;
            var directoryOnly = body.EndsWith('/');
            if (directoryOnly)
            {
                body = body[..^1];
            }
            // Without a slash left the pattern names an entry at any depth; with one it is a path from the root.
            var anywhere = !body.Contains('/');
            if (body.StartsWith('/'))
            {
                body = body[1..];
            }
            var problem = body.Length == 0 ? "it names no path" : Wildmatch.Check(body);
            if (problem is not null)
            {
                throw new SyncException($"--sparse-checkout-file '{source}' line {number}: the pattern '{line}' is not valid ({problem}): fix or remove that line (write \\ before a literal [, ! or #)");
            }
            result.Add(new Pattern(body, negated, directoryOnly, anywhere));
        }
        return new SparseCheckoutPatterns(result);
    }

    /// <summary>
    /// Decides one path (relative to the root, <c>/</c>-separated) given its folder's decision: true, false,
    /// or the folder's decision when no pattern matches it.
    /// </summary>
    public bool Includes(string path, bool isDirectory, bool folderIncluded)
    {
        var name = path[(path.LastIndexOf('/') + 1)..];
        for (var i = patterns.Count - 1; i >= 0; i--)
        {
            var pattern = patterns[i];
            if (pattern.DirectoryOnly && !isDirectory)
            {
                continue;
            }
            var matched = pattern.Anywhere
                ? Wildmatch.Match(pattern.Text, name, pathName: false)
                : Wildmatch.Match(pattern.Text, path, pathName: true);
            if (matched)
            {
                return !pattern.Negated;
            }
        }
        return folderIncluded;
    }

    /// <summary>Decides a file by walking its folders from the root, as a snapshot does; for tests and tools.</summary>
    public bool IncludesFile(string path)
    {
        var parts = path.Split('/');
        var included = false;
        for (var i = 1; i < parts.Length; i++)
        {
            included = Includes(string.Join('/', parts[..i]), isDirectory: true, included);
        }
        return Includes(path, isDirectory: false, included);
    }

    // git strips trailing spaces unless the last one is escaped with a backslash.
    private static string TrimTrailingSpaces(string line)
    {
        int? lastSpace = null;
        for (var i = 0; i < line.Length; i++)
        {
            switch (line[i])
            {
                case ' ':
                    lastSpace ??= i;
                    break;
                case '\\':
                    i++;
                    lastSpace = null;
                    break;
                default:
                    lastSpace = null;
                    break;
            }
        }
        return lastSpace is { } cut ? line[..cut] : line;
    }

    private sealed record Pattern(string Text, bool Negated, bool DirectoryOnly, bool Anywhere);
}

/// <summary>
/// git's wildmatch: <c>*</c>, <c>?</c>, <c>[...]</c> (with <c>!</c> or <c>^</c> to negate, ranges and
/// <c>[:class:]</c>), <c>\</c> escapes, and with <c>pathName</c> set, <c>*</c> and <c>?</c> stop at
/// <c>/</c> while <c>**</c> between slashes (or at either end) spans folders.
/// </summary>
internal static class Wildmatch
{
    private enum Result { Match, NoMatch, AbortAll, AbortToStarStar }

    public static bool Match(string pattern, string text, bool pathName) => DoWild(pattern, 0, text, 0, pathName) == Result.Match;

    /// <summary>Why a pattern can never match as meant (an open bracket, an unknown class, a trailing backslash), or null.</summary>
    public static string? Check(string pattern)
    {
        for (var i = 0; i < pattern.Length; i++)
        {
            switch (pattern[i])
            {
                case '\\':
                    if (++i >= pattern.Length)
                    {
                        return "it ends with a lone backslash";
                    }
                    break;
                case '[':
                    var start = i;
                    i++;
                    if (i < pattern.Length && pattern[i] is '!' or '^')
                    {
                        i++;
                    }
                    var first = true;
                    while (true)
                    {
                        if (i >= pattern.Length)
                        {
                            return $"the bracket opened at character {start + 1} is not closed";
                        }
                        var c = pattern[i];
                        if (c == ']' && !first)
                        {
                            break;
                        }
                        if (c == '\\')
                        {
                            i++;
                        }
                        else if (c == '[' && i + 1 < pattern.Length && pattern[i + 1] == ':')
                        {
                            var close = pattern.IndexOf(":]", i + 2, StringComparison.Ordinal);
                            var bracket = pattern.IndexOf(']', i + 2);
                            if (close >= 0 && close + 1 == bracket)
                            {
                                var name = pattern[(i + 2)..close];
                                if (!Classes.Contains(name))
                                {
                                    return $"[:{name}:] is not a character class";
                                }
                                i = close + 1;
                            }
                        }
                        first = false;
                        i++;
                    }
                    break;
            }
        }
        return null;
    }

    private static readonly HashSet<string> Classes =
        ["alnum", "alpha", "blank", "cntrl", "digit", "graph", "lower", "print", "punct", "space", "upper", "xdigit"];

    // A port of git's dowild() (wildmatch.c), index-based.
    private static Result DoWild(string pattern, int p, string text, int t, bool pathName)
    {
        for (; p < pattern.Length; t++, p++)
        {
            var pCh = pattern[p];
            if (t >= text.Length && pCh != '*')
            {
                return Result.AbortAll;
            }
            var tCh = t < text.Length ? text[t] : '\0';
            switch (pCh)
            {
                case '\\':
                    p++;
                    if (p >= pattern.Length || tCh != pattern[p])
                    {
                        return Result.NoMatch;
                    }
                    continue;
                case '?':
                    if (pathName && tCh == '/')
                    {
                        return Result.NoMatch;
                    }
                    continue;
                case '*':
                    bool matchSlash;
                    if (++p < pattern.Length && pattern[p] == '*')
                    {
                        var previous = p - 2;
                        while (++p < pattern.Length && pattern[p] == '*')
                        {
                        }
                        if ((previous < 0 || pattern[previous] == '/')
                            && (p >= pattern.Length || pattern[p] == '/' || (pattern[p] == '\\' && p + 1 < pattern.Length && pattern[p + 1] == '/')))
                        {
                            // "**/" may match no folder at all: try the rest of the pattern right here.
                            if (p < pattern.Length && pattern[p] == '/' && DoWild(pattern, p + 1, text, t, pathName) == Result.Match)
                            {
                                return Result.Match;
                            }
                            matchSlash = true;
                        }
                        else
                        {
                            matchSlash = !pathName;
                        }
                    }
                    else
                    {
                        matchSlash = !pathName;
                    }
                    if (p >= pattern.Length)
                    {
                        // A trailing "**" matches everything; a trailing "*" only up to the next slash.
                        return matchSlash || text.IndexOf('/', t) < 0 ? Result.Match : Result.NoMatch;
                    }
                    if (!matchSlash && pattern[p] == '/')
                    {
                        // One star then a slash: skip to the next slash of the text, matched by the loop.
                        var slash = text.IndexOf('/', t);
                        if (slash < 0)
                        {
                            return Result.NoMatch;
                        }
                        t = slash;
                        break;
                    }
                    while (true)
                    {
                        if (t >= text.Length)
                        {
                            break;
                        }
                        var matched = DoWild(pattern, p, text, t, pathName);
                        if (matched != Result.NoMatch)
                        {
                            if (!matchSlash || matched != Result.AbortToStarStar)
                            {
                                return matched;
                            }
                        }
                        else if (!matchSlash && text[t] == '/')
                        {
                            return Result.AbortToStarStar;
                        }
                        t++;
                    }
                    return Result.AbortAll;
                case '[':
                    if (!MatchBracket(pattern, ref p, tCh, out var bracketResult))
                    {
                        return bracketResult;
                    }
                    if (pathName && tCh == '/')
                    {
                        return Result.NoMatch;
                    }
                    continue;
                default:
                    if (tCh != pCh)
                    {
                        return Result.NoMatch;
                    }
                    continue;
            }
        }
        return t < text.Length ? Result.NoMatch : Result.Match;
    }

    // Leaves p on the closing bracket; false with the result when the text does not match (or the bracket is broken).
    private static bool MatchBracket(string pattern, ref int p, char tCh, out Result result)
    {
        result = Result.NoMatch;
        if (++p >= pattern.Length)
        {
            result = Result.AbortAll;
            return false;
        }
        var pCh = pattern[p];
        var negated = pCh is '!' or '^';
        if (negated)
        {
            if (++p >= pattern.Length)
            {
                result = Result.AbortAll;
                return false;
            }
            pCh = pattern[p];
        }
        var previous = '\0';
        var matched = false;
        do
        {
            if (pCh == '\\')
            {
                if (++p >= pattern.Length)
                {
                    result = Result.AbortAll;
                    return false;
                }
                pCh = pattern[p];
                matched |= tCh == pCh;
            }
            else if (pCh == '-' && previous != '\0' && p + 1 < pattern.Length && pattern[p + 1] != ']')
            {
                pCh = pattern[++p];
                if (pCh == '\\')
                {
                    if (++p >= pattern.Length)
                    {
                        result = Result.AbortAll;
                        return false;
                    }
                    pCh = pattern[p];
                }
                matched |= tCh <= pCh && tCh >= previous;
                pCh = '\0';
            }
            else if (pCh == '[' && p + 1 < pattern.Length && pattern[p + 1] == ':')
            {
                var s = p + 2;
                var end = s;
                while (end < pattern.Length && pattern[end] != ']')
                {
                    end++;
                }
                if (end >= pattern.Length)
                {
                    result = Result.AbortAll;
                    return false;
                }
                if (end - s - 1 < 0 || pattern[end - 1] != ':')
                {
                    // No ":]": a plain '[' in the set.
                    matched |= tCh == '[';
                }
                else
                {
                    p = end;
                    matched |= pattern[s..(end - 1)] switch
                    {
                        "alnum" => char.IsAsciiLetterOrDigit(tCh),
                        "alpha" => char.IsAsciiLetter(tCh),
                        "blank" => tCh is ' ' or '\t',
                        "cntrl" => char.IsControl(tCh),
                        "digit" => char.IsAsciiDigit(tCh),
                        "graph" => tCh > ' ' && tCh < '\x7f',
                        "lower" => char.IsAsciiLetterLower(tCh),
                        "print" => tCh >= ' ' && tCh < '\x7f',
                        "punct" => char.IsAsciiLetterOrDigit(tCh) is false && tCh > ' ' && tCh < '\x7f',
                        "space" => tCh is ' ' or '\t' or '\n' or '\r' or '\v' or '\f',
                        "upper" => char.IsAsciiLetterUpper(tCh),
                        "xdigit" => char.IsAsciiHexDigit(tCh),
                        _ => throw new InvalidOperationException("unreachable: classes are checked when the file is read"),
                    };
                    pCh = '\0';
                }
            }
            else
            {
                matched |= tCh == pCh;
            }
            previous = pCh;
            if (++p >= pattern.Length)
            {
                result = Result.AbortAll;
                return false;
            }
            pCh = pattern[p];
        }
        while (pCh != ']');
        if (matched == negated)
        {
            return false;
        }
        result = Result.Match;
        return true;
    }
}
