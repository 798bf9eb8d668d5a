using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Sidecar.GitSync.SignatureVerification;

/// <summary>
/// An OpenSSH signature in the SSHSIG format (openssh PROTOCOL.sshsig) that <c>ssh-keygen -Y sign</c> makes
/// and git stores in a commit's <c>gpgsig</c> header or after a tag's message.
/// </summary>
public sealed class SshSignature
{
    public const string ArmorBegin = "-----BEGIN SSH SIGNATURE-----";
    private const string ArmorEnd = "-----END SSH SIGNATURE-----";
    private static readonly byte[] Magic = "SSHSIG"u8.ToArray();

    private SshSignature(SshPublicKey key, string @namespace, byte[] reserved, string hashAlgorithm, byte[] signature)
    {
        Key = key;
        Namespace = @namespace;
        Reserved = reserved;
        HashAlgorithm = hashAlgorithm;
        Signature = signature;
    }

    /// <summary>The key the signature says made it; trusted only if the allowed signers name it.</summary>
    public SshPublicKey Key { get; }

    /// <summary>What the signature is for: git signs in the namespace <c>git</c>.</summary>
    public string Namespace { get; }

    private byte[] Reserved { get; }

    /// <summary>sha512 (ssh-keygen's default) or sha256.</summary>
    public string HashAlgorithm { get; }

    private byte[] Signature { get; }

    /// <summary>Reads the armored signature; throws <see cref="FormatException"/> naming what is wrong.</summary>
    public static SshSignature Parse(string armored)
    {
        var begin = armored.IndexOf(ArmorBegin, StringComparison.Ordinal);
        var end = armored.IndexOf(ArmorEnd, StringComparison.Ordinal);
        if (begin < 0 || end < begin)
        {
            throw new FormatException("the SSH signature has no BEGIN/END SSH SIGNATURE armor");
        }
        var body = armored[(begin + ArmorBegin.Length)..end].Where(c => !char.IsWhiteSpace(c)).ToArray();
        var blob = Convert.FromBase64CharArray(body, 0, body.Length);
        var reader = new SshWireReader(blob);
        if (!reader.ReadRaw(Magic.Length).SequenceEqual(Magic))
        {
            throw new FormatException("the SSH signature does not start with SSHSIG");
        }
        var version = reader.ReadUInt32();
        if (version != 1)
        {
            throw new FormatException($"the SSH signature is version {version}, not 1");
        }
        var key = SshPublicKey.FromBlob(reader.ReadBytes());
        return new SshSignature(key, reader.ReadString(), reader.ReadBytes(), reader.ReadString(), reader.ReadBytes());
    }

    /// <summary>True when the signature is <see cref="Key"/>'s signature of <paramref name="message"/> in its namespace.</summary>
    public bool Verifies(ReadOnlySpan<byte> message)
    {
        byte[] digest = HashAlgorithm switch
        {
            "sha512" => SHA512.HashData(message),
            "sha256" => SHA256.HashData(message),
            _ => throw new FormatException($"the SSH signature's hash '{HashAlgorithm}' is not sha512 or sha256"),
        };
        // What was signed (PROTOCOL.sshsig): the magic, namespace, reserved, hash name and the message's digest.
        using var signed = new MemoryStream();
        signed.Write(Magic);
        WriteString(signed, Encoding.UTF8.GetBytes(Namespace));
        WriteString(signed, Reserved);
        WriteString(signed, Encoding.UTF8.GetBytes(HashAlgorithm));
        WriteString(signed, digest);
        return Key.Verify(signed.ToArray(), Signature);
    }

    private static void WriteString(Stream stream, ReadOnlySpan<byte> value)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(length, (uint)value.Length);
        stream.Write(length);
        stream.Write(value);
    }
}
