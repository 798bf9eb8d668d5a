using System.Security.Cryptography;
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace Sidecar.GitSync.SignatureVerification;

/// <summary>
/// The OpenPGP keys <c>--openpgp-keys</c> trusts: one file of armored (or binary) public keys, or every such file in
/// a folder (as a ConfigMap mounts them), and the check of a detached signature as <c>gpg --verify</c> makes it.
/// </summary>
public sealed class OpenPgpKeys
{
    public const string ArmorBegin = "-----BEGIN PGP SIGNATURE-----";

    private readonly List<PgpPublicKeyRing> rings;

    private OpenPgpKeys(string path, List<PgpPublicKeyRing> rings)
    {
        Path = path;
        this.rings = rings;
    }

    public string Path { get; }

    public int Count => rings.Count;

    /// <summary>Reads the file, or each file of the folder whose name does not start with a dot; throws <see cref="FormatException"/> naming the file.</summary>
    public static OpenPgpKeys Load(string path)
    {
        var files = Directory.Exists(path)
            ? Directory.GetFiles(path).Where(f => !System.IO.Path.GetFileName(f).StartsWith('.')).Order(StringComparer.Ordinal).ToArray()
            : [path];
        var rings = new List<PgpPublicKeyRing>();
        foreach (var file in files)
        {
            try
            {
                using var stream = File.OpenRead(file);
                var bundle = new PgpPublicKeyRingBundle(PgpUtilities.GetDecoderStream(stream));
                rings.AddRange(bundle.GetKeyRings());
            }
            catch (Exception e) when (e is PgpException or IOException && e is not FileNotFoundException and not DirectoryNotFoundException)
            {
                throw new FormatException($"{file} holds no OpenPGP public key ({e.Message}): export one with 'gpg --export --armor KEYID > {System.IO.Path.GetFileName(file)}'", e);
            }
        }
        if (rings.Count == 0)
        {
            throw new FormatException($"{path} holds no OpenPGP public key: export one with 'gpg --export --armor KEYID'");
        }
        return new OpenPgpKeys(path, rings);
    }

    /// <summary>The verdict on <paramref name="armored"/>, a detached signature of <paramref name="signed"/>, at <paramref name="now"/>.</summary>
    public SignatureVerdict Verify(string objectType, string objectId, string armored, byte[] signed, DateTimeOffset now)
    {
        PgpSignature signature;
        try
        {
            using var input = PgpUtilities.GetDecoderStream(new MemoryStream(System.Text.Encoding.ASCII.GetBytes(armored)));
            var factory = new PgpObjectFactory(input);
            var list = factory.NextPgpObject() as PgpSignatureList;
            signature = list is { Count: > 0 } ? list[0] : throw new FormatException("no signature packet");
        }
        catch (Exception e) when (e is IOException or PgpException or FormatException)
        {
            return Bad(null, null, $"the OpenPGP signature cannot be read ({e.Message})");
        }
        var keyId = signature.KeyId;
        var (ring, key) = Find(keyId);
        if (ring is null || key is null)
        {
            return new SignatureVerdict(SignatureVerdictKind.Untrusted, objectType, objectId, "openpgp", keyId.ToString("X16"), null,
                $"the key {keyId:X16} is not in --openpgp-keys {Path}");
        }
        var fingerprint = Convert.ToHexString(key.GetFingerprint());
        var principal = ring.GetPublicKey().GetUserIds().FirstOrDefault();
        bool verified;
        try
        {
            verified = VerifyRsa(signature, key, signed) ?? VerifyWithBouncyCastle(signature, key, signed);
        }
        catch (Exception e) when (e is PgpException or InvalidOperationException or ArgumentException)
        {
            return Bad(fingerprint, principal, $"the OpenPGP signature cannot be checked ({e.Message})");
        }
        if (!verified)
        {
            return Bad(fingerprint, principal, $"the OpenPGP signature does not match the {objectType}'s content: it was changed after signing, or signed by another key");
        }
        if (key.HasRevocation() || ring.GetPublicKey().HasRevocation())
        {
            return new SignatureVerdict(SignatureVerdictKind.Untrusted, objectType, objectId, "openpgp", fingerprint, principal, $"the key {fingerprint} is revoked");
        }
        // As gpg: an expired key's good signature is not a good signature (EXPKEYSIG).
        if (key.GetValidSeconds() is > 0 and var seconds && key.CreationTime.AddSeconds(seconds) < now.UtcDateTime)
        {
            return new SignatureVerdict(SignatureVerdictKind.Untrusted, objectType, objectId, "openpgp", fingerprint, principal,
                $"the key {fingerprint} expired at {key.CreationTime.AddSeconds(seconds):u}");
        }
        return new SignatureVerdict(SignatureVerdictKind.Good, objectType, objectId, "openpgp", fingerprint, principal, "good OpenPGP signature by a trusted key");

        SignatureVerdict Bad(string? signer, string? who, string reason) =>
            new(SignatureVerdictKind.Bad, objectType, objectId, "openpgp", signer, who, reason);
    }

    private static bool VerifyWithBouncyCastle(PgpSignature signature, PgpPublicKey key, byte[] signed)
    {
        signature.InitVerify(key);
        signature.Update(signed);
        return signature.Verify();
    }

    /// <summary>
    /// A v4 binary-document RSA signature checked with the platform's RSA: BouncyCastle tests the modulus for primality
    /// each time it builds the key (about 100 ms for RSA-3072). Null for any other kind, which BouncyCastle checks.
    /// </summary>
    private static bool? VerifyRsa(PgpSignature signature, PgpPublicKey key, byte[] signed)
    {
        HashAlgorithmName? hash = signature.HashAlgorithm switch
        {
            HashAlgorithmTag.Sha256 => HashAlgorithmName.SHA256,
            HashAlgorithmTag.Sha384 => HashAlgorithmName.SHA384,
            HashAlgorithmTag.Sha512 => HashAlgorithmName.SHA512,
            _ => null,
        };
        if (hash is null || signature.Version != 4 || signature.SignatureType != PgpSignature.BinaryDocument
            || key.PublicKeyPacket.Key is not RsaPublicBcpgKey rsaKey
            || key.Algorithm is not (PublicKeyAlgorithmTag.RsaGeneral or PublicKeyAlgorithmTag.RsaSign))
        {
            return null;
        }
        // What OpenPGP signs (RFC 4880 5.2.4): the data, then the signature's hashed trailer.
        using var digest = IncrementalHash.CreateHash(hash.Value);
        digest.AppendData(signed);
        digest.AppendData(signature.GetSignatureTrailer());
        var modulus = rsaKey.Modulus.ToByteArrayUnsigned();
        using var rsa = RSA.Create(new RSAParameters { Modulus = modulus, Exponent = rsaKey.PublicExponent.ToByteArrayUnsigned() });
        var value = signature.GetSignature();
        if (value.Length > modulus.Length)
        {
            return false;
        }
        byte[] padded = [.. new byte[modulus.Length - value.Length], .. value];
        return rsa.VerifyHash(digest.GetHashAndReset(), padded, hash.Value, RSASignaturePadding.Pkcs1);
    }

    private (PgpPublicKeyRing? Ring, PgpPublicKey? Key) Find(long keyId)
    {
        foreach (var ring in rings)
        {
            if (ring.GetPublicKey(keyId) is { } key)
            {
                return (ring, key);
            }
        }
        return (null, null);
    }
}
