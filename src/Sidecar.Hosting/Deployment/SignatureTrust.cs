using System.Text;
using System.Text.RegularExpressions;
using Aspire.Hosting.ApplicationModel;

namespace Aspire.Hosting.Deployment;

/// <summary>
/// The trust files of a sidecar that verifies signatures (<see cref="SignatureVerificationAnnotation"/>), read from the
/// AppHost's machine so a deployment carries them to <see cref="SignatureVerificationExtensions.TrustFolder"/>:
/// <c>allowed_signers</c> and <c>openpgp-keys/&lt;file&gt;</c>, where the sidecar's environment points.
/// </summary>
public sealed partial record SignatureTrust(IReadOnlyList<TrustFile> Files)
{
    public const string AllowedSignersName = "allowed_signers";
    public const string OpenPgpKeysFolder = "openpgp-keys";

    /// <summary>A ConfigMap holds at most 1 MiB.</summary>
    private const int ConfigMapLimit = 1024 * 1024;

    /// <summary>The trust files of <paramref name="sync"/>, or null when it does not verify signatures.</summary>
    public static SignatureTrust? Of(GitSyncResource sync)
    {
        if (sync.Annotations.OfType<SignatureVerificationAnnotation>().LastOrDefault() is not { } annotation)
        {
            return null;
        }
        var files = new List<TrustFile>();
        if (annotation.AllowedSignersFile is { } signers)
        {
            files.Add(new TrustFile(AllowedSignersName, AllowedSignersName, Read(sync, signers), signers));
        }
        if (annotation.OpenPgpKeys is { } keys)
        {
            // As the sidecar reads a folder: every file in it but dot files (a ConfigMap volume's ..data and the like).
            var keyFiles = Directory.Exists(keys)
                ? Directory.GetFiles(keys).Where(f => !Path.GetFileName(f).StartsWith('.')).Order(StringComparer.Ordinal).ToList()
                : [keys];
            if (keyFiles.Count == 0)
            {
                throw new InvalidOperationException($"'{sync.Name}': the OpenPGP key folder '{keys}' holds no key files: export a key into it (gpg --export --armor KEYID > {Path.Combine(keys, "you.asc")})");
            }
            foreach (var file in keyFiles)
            {
                var name = Path.GetFileName(file);
                if (!ConfigMapKey().IsMatch(name) || name.Length > 253 || name == AllowedSignersName)
                {
                    throw new InvalidOperationException(
                        $"'{sync.Name}': the OpenPGP key file name '{name}' ({file}) cannot be a ConfigMap key: rename it to letters, digits, '-', '_' and '.' only (not '{AllowedSignersName}'), such as you.asc");
                }
                files.Add(new TrustFile(name, $"{OpenPgpKeysFolder}/{name}", Read(sync, file), file));
            }
        }
        var size = files.Sum(f => f.Content.Length + f.Key.Length);
        if (size > ConfigMapLimit)
        {
            throw new InvalidOperationException($"'{sync.Name}': the trust files hold {size} bytes, more than the 1 MiB a ConfigMap takes: keep only the keys that sign this repository");
        }
        return new SignatureTrust(files);
    }

    private static byte[] Read(GitSyncResource sync, string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"'{sync.Name}': the trust file '{path}' cannot be read ({e.Message}): make it readable or fix the path in WithSignatureVerification", e);
        }
    }

    [GeneratedRegex("^[-._a-zA-Z0-9]+$")]
    private static partial Regex ConfigMapKey();
}

/// <summary>One trust file: its ConfigMap key, its path under the trust folder, its bytes, and where it was read.</summary>
public sealed record TrustFile(string Key, string Path, byte[] Content, string Source)
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The content as text when it is UTF-8 (armored keys, allowed signers); null for a binary key, which goes in <c>binaryData</c>.</summary>
    public string? Text
    {
        get
        {
            try
            {
                return StrictUtf8.GetString(Content);
            }
            catch (DecoderFallbackException)
            {
                return null;
            }
        }
    }
}
