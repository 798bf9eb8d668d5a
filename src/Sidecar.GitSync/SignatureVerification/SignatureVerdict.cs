namespace Sidecar.GitSync.SignatureVerification;

/// <summary>What <c>--verify-signatures</c> does with a revision whose signature is not good.</summary>
public enum SignatureVerificationMode
{
    /// <summary>No verification (the default).</summary>
    Off,

    /// <summary>Verify and record the verdict, but publish whatever it is.</summary>
    Audit,

    /// <summary>Publish only a revision whose signature is good; otherwise keep the last good revision and fail the sync.</summary>
    Enforce,
}

/// <summary>The verdict on one commit's or tag's signature, in the terms of <c>git verify-commit</c>.</summary>
public enum SignatureVerdictKind
{
    /// <summary>Signed by a trusted key, and the signature verifies.</summary>
    Good,

    /// <summary>No signature at all.</summary>
    Unsigned,

    /// <summary>A signature by a key the trust sources do not trust (unknown key, outside its validity window, namespace not allowed).</summary>
    Untrusted,

    /// <summary>The signature does not verify: the content changed after signing, a wrong namespace, or a malformed signature.</summary>
    Bad,
}

/// <summary>
/// The verdict on the signature of <paramref name="ObjectId"/> (a <paramref name="ObjectType"/>: commit or tag):
/// who signed it (<paramref name="Signer"/>: an SSH key's SHA256 fingerprint or an OpenPGP fingerprint) and why.
/// </summary>
public sealed record SignatureVerdict(
    SignatureVerdictKind Kind,
    string ObjectType,
    string ObjectId,
    string Format,
    string? Signer,
    string? Principal,
    string Reason)
{
    /// <summary>The verdict as it appears in /status, metrics and traces: good, unsigned, untrusted or bad.</summary>
    public string Name => Kind.ToString().ToLowerInvariant();

    public bool IsGood => Kind == SignatureVerdictKind.Good;

    /// <summary>One line naming the object, the verdict, the signer's key and the reason.</summary>
    public string Describe() =>
        $"{ObjectType} {ObjectId} signature is {Name}: {Reason} (signer key: {Signer ?? "none"}{(Principal is null ? "" : $", principal {Principal}")})";

    public static SignatureVerdict Unsigned(string objectType, string objectId) =>
        new(SignatureVerdictKind.Unsigned, objectType, objectId, "none", null, null, $"the {objectType} carries no signature");
}
