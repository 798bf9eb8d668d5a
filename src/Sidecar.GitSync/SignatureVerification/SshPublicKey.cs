using System.Buffers.Binary;
using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace Sidecar.GitSync.SignatureVerification;

/// <summary>
/// An SSH public key as OpenSSH encodes it (RFC 4253, 5656, 8709): its wire blob, its SHA256 fingerprint as
/// <c>ssh-keygen -l</c> prints it, and the check of a signature made with it.
/// </summary>
public sealed class SshPublicKey
{
    private SshPublicKey(string type, byte[] blob)
    {
        Type = type;
        Blob = blob;
    }

    /// <summary>The key type: ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa (or one this sidecar cannot check).</summary>
    public string Type { get; }

    /// <summary>The key's wire encoding; two keys are the same key when their blobs are equal.</summary>
    public byte[] Blob { get; }

    /// <summary><c>SHA256:</c> and the unpadded base64 of the blob's SHA-256, as ssh-keygen and git print it.</summary>
    public string Fingerprint => "SHA256:" + Convert.ToBase64String(SHA256.HashData(Blob)).TrimEnd('=');

    public static SshPublicKey FromBlob(byte[] blob) => new(new SshWireReader(blob).ReadString(), blob);

    public bool SameKey(SshPublicKey other) => Blob.AsSpan().SequenceEqual(other.Blob);

    /// <summary>
    /// True when <paramref name="signature"/> (an SSH signature blob: format name and bytes) is this key's signature
    /// of <paramref name="data"/>. Throws <see cref="FormatException"/> for a key or format it cannot check.
    /// </summary>
    public bool Verify(byte[] data, byte[] signature)
    {
        var signatureReader = new SshWireReader(signature);
        var format = signatureReader.ReadString();
        var bytes = signatureReader.ReadBytes();
        var key = new SshWireReader(Blob);
        key.ReadString();
        switch (Type)
        {
            case "ssh-ed25519" when format == "ssh-ed25519":
                {
                    var signer = new Ed25519Signer();
                    signer.Init(false, new Ed25519PublicKeyParameters(key.ReadBytes()));
                    signer.BlockUpdate(data, 0, data.Length);
                    return signer.VerifySignature(bytes);
                }
            case "ssh-rsa" when format is "rsa-sha2-256" or "rsa-sha2-512":
                {
                    var exponent = Unsigned(key.ReadBytes());
                    var modulus = Unsigned(key.ReadBytes());
                    using var rsa = RSA.Create(new RSAParameters { Exponent = exponent, Modulus = modulus });
                    var hash = format == "rsa-sha2-256" ? HashAlgorithmName.SHA256 : HashAlgorithmName.SHA512;
                    return rsa.VerifyData(data, LeftPad(bytes, modulus.Length), hash, RSASignaturePadding.Pkcs1);
                }
            case "ecdsa-sha2-nistp256" or "ecdsa-sha2-nistp384" or "ecdsa-sha2-nistp521" when format == Type:
                {
                    var (curve, hash, size) = Type switch
                    {
                        "ecdsa-sha2-nistp256" => (ECCurve.NamedCurves.nistP256, HashAlgorithmName.SHA256, 32),
                        "ecdsa-sha2-nistp384" => (ECCurve.NamedCurves.nistP384, HashAlgorithmName.SHA384, 48),
                        _ => (ECCurve.NamedCurves.nistP521, HashAlgorithmName.SHA512, 66),
                    };
                    key.ReadString();
                    var point = key.ReadBytes();
                    if (point.Length != 1 + 2 * size || point[0] != 4)
                    {
                        throw new FormatException($"the {Type} key's point is not an uncompressed point of this curve");
                    }
                    using var ecdsa = ECDsa.Create(new ECParameters { Curve = curve, Q = new ECPoint { X = point[1..(1 + size)], Y = point[(1 + size)..] } });
                    var rs = new SshWireReader(bytes);
                    var r = LeftPad(Unsigned(rs.ReadBytes()), size);
                    var s = LeftPad(Unsigned(rs.ReadBytes()), size);
                    return r.Length == size && s.Length == size && ecdsa.VerifyData(data, (byte[])[.. r, .. s], hash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
                }
            default:
                throw new FormatException($"a {format} signature by a {Type} key is not one this sidecar checks (it checks ssh-ed25519, ecdsa-sha2-nistp256/384/521 and RSA with rsa-sha2-256/512)");
        }
    }

    // An SSH mpint is two's complement with a leading zero for positive numbers whose top bit is set.
    private static byte[] Unsigned(byte[] mpint) => mpint.Length > 1 && mpint[0] == 0 ? mpint[1..] : mpint;

    private static byte[] LeftPad(byte[] value, int length) =>
        value.Length >= length ? value : [.. new byte[length - value.Length], .. value];
}

/// <summary>Reads the SSH wire encoding (RFC 4251): big-endian uint32 lengths before strings.</summary>
public ref struct SshWireReader(ReadOnlySpan<byte> data)
{
    private ReadOnlySpan<byte> rest = data;

    public bool AtEnd => rest.IsEmpty;

    public uint ReadUInt32()
    {
        if (rest.Length < 4)
        {
            throw new FormatException("the SSH data ends early");
        }
        var value = BinaryPrimitives.ReadUInt32BigEndian(rest);
        rest = rest[4..];
        return value;
    }

    public byte[] ReadBytes()
    {
        var length = ReadUInt32();
        if (length > rest.Length)
        {
            throw new FormatException("the SSH data ends early");
        }
        var value = rest[..(int)length].ToArray();
        rest = rest[(int)length..];
        return value;
    }

    public string ReadString() => System.Text.Encoding.UTF8.GetString(ReadBytes());

    public ReadOnlySpan<byte> ReadRaw(int length)
    {
        if (length > rest.Length)
        {
            throw new FormatException("the SSH data ends early");
        }
        var value = rest[..length];
        rest = rest[length..];
        return value;
    }
}
