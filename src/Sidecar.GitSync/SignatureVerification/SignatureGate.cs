using System.Diagnostics;
using LibGit2Sharp;
using Sidecar.GitSync.CommandLine;
using Sidecar.GitSync.Git;
using Sidecar.GitSync.Sync;
using Sidecar.GitSync.Telemetry;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace Sidecar.GitSync.SignatureVerification;

/// <summary>
/// <c>--verify-signatures</c> at the one point of a sync between fetch and snapshot: judges the target revision,
/// records the verdict (log, <c>sync</c> span, metrics, <c>/status</c>), and under <c>enforce</c> stops the sync
/// of a revision whose signature is not good, so the last good revision stays published.
/// </summary>
public sealed partial class SignatureGate(
    GitSyncOptions options,
    RevisionSignatureVerifier verifier,
    SyncStatus status,
    GitSyncTelemetry telemetry,
    ILogger<SignatureGate> logger)
{
    public bool Enabled => options.VerifySignatures != SignatureVerificationMode.Off;

    /// <summary>
    /// Judges <paramref name="commitId"/> (or the annotated tag <paramref name="tagId"/> that names it). Under
    /// <c>enforce</c>, throws a <see cref="SyncException"/> naming the object, the signer's key and the reason.
    /// </summary>
    public SignatureVerdict? Check(Repository store, string commitId, string? tagId, Activity? sync, string? published)
    {
        if (!Enabled)
        {
            return null;
        }
        SignatureVerdict verdict;
        using (var span = GitSyncTelemetry.ActivitySource.StartActivity("verify-signature"))
        {
            verdict = verifier.Verify(store, commitId, tagId);
            Tag(span, verdict);
        }
        Tag(sync, verdict);
        var mode = options.VerifySignatures.ToString().ToLowerInvariant();
        telemetry.RecordSignatureVerdict(verdict.Name, mode);
        status.RecordSignature(verdict, commitId);
        if (verdict.IsGood)
        {
            LogGood(logger, verdict.ObjectType, verdict.ObjectId, verdict.Signer, verdict.Principal);
            return verdict;
        }
        if (options.VerifySignatures == SignatureVerificationMode.Audit)
        {
            LogAudited(logger, verdict.ObjectType, verdict.ObjectId, verdict.Name, verdict.Signer ?? "none", verdict.Reason);
            return verdict;
        }
        throw new SyncException(
            $"{verdict.Describe()}; --verify-signatures=enforce: not published, still serving {published ?? "no revision"}. "
            + "Fix: push a commit signed by a key in the trust files, or add the signer's key to them");
    }

    /// <summary>What <c>--error-file</c> holds after an audited publish whose signature is not good; null otherwise.</summary>
    public string? AuditFinding(string? publishedRevision) =>
        options.VerifySignatures == SignatureVerificationMode.Audit && status.PublishedSignature is { IsGood: false } verdict
            && status.PublishedRevision == publishedRevision
            ? $"{verdict.Describe()}; --verify-signatures=audit: published anyway"
            : null;

    private static void Tag(Activity? activity, SignatureVerdict verdict)
    {
        activity?.SetTag("gitsync.signature.verdict", verdict.Name);
        activity?.SetTag("gitsync.signature.signer", verdict.Signer);
        activity?.SetTag("gitsync.signature.principal", verdict.Principal);
        activity?.SetTag("gitsync.signature.object", $"{verdict.ObjectType} {verdict.ObjectId}");
        activity?.SetTag("gitsync.signature.format", verdict.Format);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Signature of {ObjectType} {ObjectId} is good: key {Signer}, principal {Principal}")]
    private static partial void LogGood(ILogger logger, string objectType, string objectId, string? signer, string? principal);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Signature of {ObjectType} {ObjectId} is {Verdict} (key {Signer}): {Reason}; --verify-signatures=audit publishes it anyway")]
    private static partial void LogAudited(ILogger logger, string objectType, string objectId, string verdict, string signer, string reason);
}

/// <summary>Start-up checks of the signature flags; each message names the value and the fix.</summary>
public static class SignatureVerificationOptions
{
    public static IEnumerable<string> Validate(GitSyncOptions options)
    {
        if (options.VerifySignatures == SignatureVerificationMode.Off)
        {
            yield break;
        }
        var mode = options.VerifySignatures.ToString().ToLowerInvariant();
        if (options.AllowedSignersFile.Length == 0 && options.OpenPgpKeys.Length == 0)
        {
            yield return $"--verify-signatures={mode} has nothing to trust: give --allowed-signers-file=PATH (SSH signatures, git's gpg.ssh.allowedSignersFile format) "
                + "and/or --openpgp-keys=PATH (a file or folder of armored OpenPGP public keys), or set --verify-signatures=off";
            yield break;
        }
        if (options.AllowedSignersFile.Length > 0 && Check(() => AllowedSigners.Load(options.AllowedSignersFile)) is { } signers)
        {
            yield return $"--allowed-signers-file '{options.AllowedSignersFile}': {signers}";
        }
        if (options.OpenPgpKeys.Length > 0 && Check(() => OpenPgpKeys.Load(options.OpenPgpKeys)) is { } keys)
        {
            yield return $"--openpgp-keys '{options.OpenPgpKeys}': {keys}";
        }
    }

    private static string? Check(Action load)
    {
        try
        {
            load();
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return e is FileNotFoundException or DirectoryNotFoundException ? "no such file or folder: give the path of the mounted trust file" : e.Message;
        }
    }

    /// <summary>Reads <c>--verify-signatures</c>: off, audit or enforce.</summary>
    public static string? Apply(GitSyncOptions options, string value)
    {
        SignatureVerificationMode? mode = value.ToLowerInvariant() switch
        {
            "off" or "false" or "" => SignatureVerificationMode.Off,
            "audit" => SignatureVerificationMode.Audit,
            "enforce" => SignatureVerificationMode.Enforce,
            _ => null,
        };
        if (mode is null)
        {
            return $"--verify-signatures '{value}' is not a mode: give off, audit (publish and record the verdict) or enforce (publish only good signatures)";
        }
        options.VerifySignatures = mode.Value;
        return null;
    }
}
