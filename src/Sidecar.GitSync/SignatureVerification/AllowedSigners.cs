using System.Globalization;
using System.Text;

namespace Sidecar.GitSync.SignatureVerification;

/// <summary>One line of an allowed signers file: who (principals), which key, and the key's limits.</summary>
public sealed record AllowedSigner(
    int Line,
    string Principals,
    SshPublicKey Key,
    bool CertificateAuthority,
    string? Namespaces,
    DateTimeOffset? ValidAfter,
    DateTimeOffset? ValidBefore);

/// <summary>
/// git's <c>gpg.ssh.allowedSignersFile</c> (ssh-keygen(1) "ALLOWED SIGNERS"): per line, principals, optional
/// options (<c>namespaces="git"</c>, <c>valid-after</c>, <c>valid-before</c>, <c>cert-authority</c>), then the key.
/// </summary>
public sealed class AllowedSigners
{
    private AllowedSigners(string path, IReadOnlyList<AllowedSigner> signers)
    {
        Path = path;
        Signers = signers;
    }

    public string Path { get; }

    public IReadOnlyList<AllowedSigner> Signers { get; }

    /// <summary>Reads the file; throws <see cref="FormatException"/> naming the file, the line and what is wrong.</summary>
    public static AllowedSigners Load(string path)
    {
        var signers = new List<AllowedSigner>();
        var number = 0;
        foreach (var raw in File.ReadLines(path))
        {
            number++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            try
            {
                signers.Add(ParseLine(number, line));
            }
            catch (FormatException e)
            {
                throw new FormatException($"{path} line {number}: {e.Message}; write it as 'PRINCIPALS [namespaces=\"git\"] KEYTYPE BASE64-KEY', e.g. 'me@example.com ssh-ed25519 AAAA...'", e);
            }
        }
        return new AllowedSigners(path, signers);
    }

    private static AllowedSigner ParseLine(int number, string line)
    {
        var position = 0;
        var principals = NextField(line, ref position).Trim('"');
        var field = NextField(line, ref position);
        string? options = null;
        if (!LooksLikeKeyType(field))
        {
            options = field;
            field = NextField(line, ref position);
        }
        var keyType = field;
        var keyText = NextField(line, ref position);
        if (keyType.Length == 0 || keyText.Length == 0)
        {
            throw new FormatException("no key found");
        }
        SshPublicKey key;
        try
        {
            key = SshPublicKey.FromBlob(Convert.FromBase64String(keyText));
        }
        catch (FormatException)
        {
            throw new FormatException($"the key '{Shorten(keyText)}' is not base64");
        }
        if (key.Type != keyType)
        {
            throw new FormatException($"the key is a {key.Type} key, but the line says {keyType}");
        }

        var certificateAuthority = false;
        string? namespaces = null;
        DateTimeOffset? validAfter = null, validBefore = null;
        foreach (var option in SplitOptions(options ?? ""))
        {
            var equals = option.IndexOf('=');
            var name = (equals < 0 ? option : option[..equals]).ToLowerInvariant();
            var value = equals < 0 ? "" : option[(equals + 1)..].Trim('"');
            switch (name)
            {
                case "cert-authority":
                    certificateAuthority = true;
                    break;
                case "namespaces":
                    namespaces = value;
                    break;
                case "valid-after":
                    validAfter = ParseTime(value, name);
                    break;
                case "valid-before":
                    validBefore = ParseTime(value, name);
                    break;
                default:
                    throw new FormatException($"the option '{name}' is not one of cert-authority, namespaces, valid-after, valid-before");
            }
        }
        return new AllowedSigner(number, principals, key, certificateAuthority, namespaces, validAfter, validBefore);
    }

    // A field ends at whitespace outside double quotes.
    private static string NextField(string line, ref int position)
    {
        while (position < line.Length && char.IsWhiteSpace(line[position]))
        {
            position++;
        }
        var start = position;
        var quoted = false;
        while (position < line.Length && (quoted || !char.IsWhiteSpace(line[position])))
        {
            if (line[position] == '"')
            {
                quoted = !quoted;
            }
            position++;
        }
        return line[start..position];
    }

    private static bool LooksLikeKeyType(string field) =>
        field.StartsWith("ssh-", StringComparison.Ordinal) || field.StartsWith("ecdsa-", StringComparison.Ordinal)
        || field.StartsWith("sk-", StringComparison.Ordinal) || field.StartsWith("rsa-", StringComparison.Ordinal);

    private static IEnumerable<string> SplitOptions(string options)
    {
        var current = new StringBuilder();
        var quoted = false;
        foreach (var c in options)
        {
            if (c == '"')
            {
                quoted = !quoted;
            }
            if (c == ',' && !quoted)
            {
                yield return current.ToString();
                current.Clear();
                continue;
            }
            current.Append(c);
        }
        if (current.Length > 0)
        {
            yield return current.ToString();
        }
    }

    // ssh-keygen's times: YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS, in UTC with a trailing Z, else in local time.
    private static DateTimeOffset ParseTime(string value, string option)
    {
        var utc = value.EndsWith('Z') || value.EndsWith('z');
        var digits = utc ? value[..^1] : value;
        string[] formats = ["yyyyMMdd", "yyyyMMddHHmm", "yyyyMMddHHmmss"];
        if (!DateTime.TryParseExact(digits, formats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var time))
        {
            throw new FormatException($"{option}=\"{value}\" is not a time: write YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS, with Z for UTC");
        }
        return utc ? new DateTimeOffset(time, TimeSpan.Zero) : new DateTimeOffset(time, TimeZoneInfo.Local.GetUtcOffset(time));
    }

    private static string Shorten(string text) => text.Length > 16 ? text[..16] + "..." : text;

    /// <summary>
    /// ssh-keygen's judgement of a signature by <paramref name="key"/> in <paramref name="namespace"/> made at
    /// <paramref name="time"/> (git passes the committer's or tagger's time): the matching line, or why none matches.
    /// </summary>
    public (AllowedSigner? Signer, string Reason) Find(SshPublicKey key, string @namespace, DateTimeOffset time)
    {
        var lines = Signers.Where(s => s.Key.SameKey(key) && !s.CertificateAuthority).ToList();
        if (lines.Count == 0)
        {
            return (null, $"the key {key.Fingerprint} is not in the allowed signers file {Path}");
        }
        string? reason = null;
        foreach (var line in lines)
        {
            if (line.ValidAfter is { } after && time < after)
            {
                reason ??= $"the key of {line.Principals} ({Path} line {line.Line}) is valid only after {after:u}, and the signature is from {time:u}";
                continue;
            }
            if (line.ValidBefore is { } before && time > before)
            {
                reason ??= $"the key of {line.Principals} ({Path} line {line.Line}) was valid only before {before:u}, and the signature is from {time:u}";
                continue;
            }
            if (line.Namespaces is { } namespaces && !PatternList.Matches(@namespace, namespaces))
            {
                reason ??= $"the key of {line.Principals} ({Path} line {line.Line}) may sign only in namespaces \"{namespaces}\", not \"{@namespace}\"";
                continue;
            }
            return (line, "");
        }
        return (null, reason!);
    }
}

/// <summary>OpenSSH's pattern lists (ssh_config(5) PATTERNS): comma-separated, <c>*</c> and <c>?</c> wildcards, <c>!</c> negates.</summary>
public static class PatternList
{
    public static bool Matches(string value, string list)
    {
        var matched = false;
        foreach (var raw in list.Split(','))
        {
            var pattern = raw.Trim();
            var negated = pattern.StartsWith('!');
            if (Wildcard(value, negated ? pattern[1..] : pattern))
            {
                if (negated)
                {
                    return false;
                }
                matched = true;
            }
        }
        return matched;
    }

    private static bool Wildcard(ReadOnlySpan<char> value, ReadOnlySpan<char> pattern)
    {
        if (pattern.IsEmpty)
        {
            return value.IsEmpty;
        }
        if (pattern[0] == '*')
        {
            for (var i = 0; i <= value.Length; i++)
            {
                if (Wildcard(value[i..], pattern[1..]))
                {
                    return true;
                }
            }
            return false;
        }
        return !value.IsEmpty && (pattern[0] == '?' || pattern[0] == value[0]) && Wildcard(value[1..], pattern[1..]);
    }
}
