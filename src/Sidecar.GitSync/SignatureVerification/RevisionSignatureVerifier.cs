using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using LibGit2Sharp;
using Sidecar.GitSync.CommandLine;
using Sidecar.GitSync.Git;

namespace Sidecar.GitSync.SignatureVerification;

/// <summary>
/// Judges a revision's signature as <c>git verify-commit</c> (or, for an annotated tag, <c>git verify-tag</c>) does
/// with the same trust files: SSH signatures against <c>--allowed-signers-file</c>, OpenPGP signatures against
/// <c>--openpgp-keys</c>. Everything runs in process; the trust files are read again when they change.
/// </summary>
public sealed class RevisionSignatureVerifier(GitSyncOptions options, TimeProvider timeProvider)
{
    private readonly TrustFile<AllowedSigners> allowedSigners = new(options.AllowedSignersFile, AllowedSigners.Load);
    private readonly TrustFile<OpenPgpKeys> openPgpKeys = new(options.OpenPgpKeys, OpenPgpKeys.Load);

    public SignatureVerificationMode Mode => options.VerifySignatures;

    /// <summary>The verdict on the annotated tag <paramref name="tagId"/> when given, else on the commit <paramref name="commitId"/>.</summary>
    public SignatureVerdict Verify(Repository store, string commitId, string? tagId)
    {
        var (objectType, objectId) = tagId is null ? ("commit", commitId) : ("tag", tagId);
        var (bytes, type) = GitObjectBytes.Read(store.Info.Path, objectId);
        if (type != (tagId is null ? GitObjectBytes.Commit : GitObjectBytes.Tag))
        {
            throw new SyncException($"object {objectId} is not a {objectType}");
        }
        var (signature, signed) = tagId is null ? SignedObject.SplitCommit(bytes) : SignedObject.SplitTag(bytes);
        return signature is null
            ? SignatureVerdict.Unsigned(objectType, objectId)
            : VerifyPayload(objectType, objectId, signature, signed);
    }

    /// <summary>The verdict on <paramref name="signature"/> (armored) over <paramref name="signed"/>, the object without its signature.</summary>
    public SignatureVerdict VerifyPayload(string objectType, string objectId, string signature, byte[] signed)
    {
        if (signature.Contains(SshSignature.ArmorBegin, StringComparison.Ordinal))
        {
            return VerifySsh(objectType, objectId, signature, signed);
        }
        if (signature.Contains(OpenPgpKeys.ArmorBegin, StringComparison.Ordinal))
        {
            if (options.OpenPgpKeys.Length == 0)
            {
                return new SignatureVerdict(SignatureVerdictKind.Untrusted, objectType, objectId, "openpgp", null, null,
                    "the signature is OpenPGP, and no --openpgp-keys is given to check it against");
            }
            if (Load(openPgpKeys, "--openpgp-keys", out var keys) is { } unreadable)
            {
                return new SignatureVerdict(SignatureVerdictKind.Untrusted, objectType, objectId, "openpgp", null, null, unreadable);
            }
            return keys!.Verify(objectType, objectId, signature, signed, timeProvider.GetUtcNow());
        }
        return new SignatureVerdict(SignatureVerdictKind.Bad, objectType, objectId, "unknown", null, null,
            "the signature is neither SSH nor OpenPGP (X.509 signatures are not checked)");
    }

    private SignatureVerdict VerifySsh(string objectType, string objectId, string armored, byte[] signed)
    {
        SshSignature signature;
        try
        {
            signature = SshSignature.Parse(armored);
        }
        catch (FormatException e)
        {
            return Verdict(SignatureVerdictKind.Bad, null, null, $"the SSH signature cannot be read ({e.Message})");
        }
        var fingerprint = signature.Key.Fingerprint;
        if (signature.Namespace != "git")
        {
            return Verdict(SignatureVerdictKind.Bad, fingerprint, null, $"the SSH signature was made for the namespace \"{signature.Namespace}\", not \"git\"");
        }
        try
        {
            if (!signature.Verifies(signed))
            {
                return Verdict(SignatureVerdictKind.Bad, fingerprint, null,
                    $"the SSH signature does not match the {objectType}'s content: it was changed after signing");
            }
        }
        catch (Exception e) when (e is FormatException or CryptographicException or ArgumentException)
        {
            return Verdict(SignatureVerdictKind.Bad, fingerprint, null, $"the SSH signature cannot be checked ({e.Message})");
        }
        if (options.AllowedSignersFile.Length == 0)
        {
            return Verdict(SignatureVerdictKind.Untrusted, fingerprint, null, "the signature is SSH, and no --allowed-signers-file is given to check it against");
        }
        if (Load(allowedSigners, "--allowed-signers-file", out var signers) is { } unreadable)
        {
            return Verdict(SignatureVerdictKind.Untrusted, fingerprint, null, unreadable);
        }
        var (signer, reason) = signers!.Find(signature.Key, signature.Namespace, SignerTime(signed, objectType == "tag" ? "tagger" : "committer"));
        return signer is null
            ? Verdict(SignatureVerdictKind.Untrusted, fingerprint, null, reason)
            : Verdict(SignatureVerdictKind.Good, fingerprint, signer.Principals, "good SSH signature by an allowed signer");

        SignatureVerdict Verdict(SignatureVerdictKind kind, string? signer, string? principal, string reason) =>
            new(kind, objectType, objectId, "ssh", signer, principal, reason);
    }

    private static string? Load<T>(TrustFile<T> file, string flag, out T? value) where T : class
    {
        try
        {
            value = file.Current();
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            value = null;
            return $"{flag} {file.Path} cannot be read ({e.Message})";
        }
    }

    // git verifies an SSH signature at the time the object says it was made (the committer's or tagger's date).
    private DateTimeOffset SignerTime(byte[] signed, string header)
    {
        var text = Encoding.UTF8.GetString(signed);
        var headers = text.IndexOf("\n\n", StringComparison.Ordinal) is var end and >= 0 ? text[..end] : text;
        foreach (var line in headers.Split('\n'))
        {
            if (line.StartsWith(header + " ", StringComparison.Ordinal))
            {
                var parts = line[(line.LastIndexOf('>') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length > 0 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
                {
                    return DateTimeOffset.FromUnixTimeSeconds(seconds);
                }
            }
        }
        return timeProvider.GetUtcNow();
    }
}

/// <summary>A trust file (or folder), parsed once and again whenever a file in it changes (a ConfigMap update).</summary>
public sealed class TrustFile<T>(string path, Func<string, T> load) where T : class
{
    private readonly Lock gate = new();
    private string? stamp;
    private T? value;

    public string Path { get; } = path;

    public T Current()
    {
        lock (gate)
        {
            var now = Stamp();
            if (value is null || now != stamp)
            {
                value = load(Path);
                stamp = now;
            }
            return value;
        }
    }

    private string Stamp()
    {
        var files = Directory.Exists(Path) ? Directory.GetFiles(Path) : [Path];
        var stamp = new StringBuilder();
        foreach (var file in files.Order(StringComparer.Ordinal))
        {
            var info = new FileInfo(file);
            if (!info.Exists)
            {
                throw new FileNotFoundException($"{file} does not exist", file);
            }
            stamp.Append(CultureInfo.InvariantCulture, $"{file}:{info.LastWriteTimeUtc.Ticks}:{info.Length};");
        }
        return stamp.ToString();
    }
}
