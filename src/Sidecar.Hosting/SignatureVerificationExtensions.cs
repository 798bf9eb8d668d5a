using Aspire.Hosting.ApplicationModel;

namespace Aspire.Hosting;

/// <summary>What the sidecar does with a revision whose signature is not good (<c>GITSYNC_VERIFY_SIGNATURES</c>).</summary>
public enum GitSyncSignatureMode
{
    /// <summary>Publish it, and record the verdict (status, metrics, dashboard health degraded).</summary>
    Audit,

    /// <summary>Do not publish it: the last good revision stays served and the sync fails.</summary>
    Enforce,
}

/// <summary>
/// The trust files of a sidecar that verifies signatures, for the deployment outputs to mount read-only at
/// <see cref="SignatureVerificationExtensions.TrustFolder"/> (from a ConfigMap in Kubernetes, a file in Compose).
/// </summary>
public sealed class SignatureVerificationAnnotation(GitSyncSignatureMode mode, string? allowedSignersFile, string? openPgpKeys) : IResourceAnnotation
{
    public GitSyncSignatureMode Mode { get; } = mode;

    /// <summary>The allowed signers file on the AppHost's machine, or null.</summary>
    public string? AllowedSignersFile { get; } = allowedSignersFile;

    /// <summary>The OpenPGP key file or folder on the AppHost's machine, or null.</summary>
    public string? OpenPgpKeys { get; } = openPgpKeys;
}

/// <summary>Turns on the sidecar's commit and tag signature verification.</summary>
public static class SignatureVerificationExtensions
{
    /// <summary>Where a deployed sidecar finds its trust files: mounted read-only, as git-sync's secrets are under /etc/git-secret.</summary>
    public const string TrustFolder = "/etc/git-trust";

    /// <summary>
    /// Verifies the signature of every revision the sidecar would publish, as <c>git verify-commit</c> does:
    /// SSH signatures against <paramref name="allowedSignersFile"/> (git's <c>gpg.ssh.allowedSignersFile</c>
    /// format), OpenPGP signatures against <paramref name="openPgpKeys"/> (a file or folder of armored public keys).
    /// Relative paths are under the AppHost's folder. At least one of the two is required.
    /// </summary>
    public static IResourceBuilder<GitSyncResource> WithSignatureVerification(this IResourceBuilder<GitSyncResource> sync, GitSyncSignatureMode mode,
        string? allowedSignersFile = null, string? openPgpKeys = null)
    {
        if (allowedSignersFile is null && openPgpKeys is null)
        {
            throw new ArgumentException($"'{sync.Resource.Name}': signature verification needs a trust source: give allowedSignersFile (SSH) and/or openPgpKeys (OpenPGP)");
        }
        var builder = sync.ApplicationBuilder;
        string? Local(string? path, bool folderAllowed)
        {
            if (path is null)
            {
                return null;
            }
            var full = Path.GetFullPath(path, builder.AppHostDirectory);
            if (!File.Exists(full) && !(folderAllowed && Directory.Exists(full)))
            {
                throw new FileNotFoundException($"'{sync.Resource.Name}': the trust file '{full}' does not exist: create it (see docs/signatures.md) or fix the path", full);
            }
            return full;
        }
        var signers = Local(allowedSignersFile, folderAllowed: false);
        var keys = Local(openPgpKeys, folderAllowed: true);
        sync.WithAnnotation(new SignatureVerificationAnnotation(mode, signers, keys), ResourceAnnotationMutationBehavior.Replace);

        // Run mode reads the files where they are; a deployment reads them where its outputs mount them.
        var run = builder.ExecutionContext.IsRunMode;
        sync.WithEnvironment("GITSYNC_VERIFY_SIGNATURES", mode.ToString().ToLowerInvariant());
        if (signers is not null)
        {
            sync.WithEnvironment("GITSYNC_ALLOWED_SIGNERS_FILE", run ? signers : $"{TrustFolder}/{Deployment.SignatureTrust.AllowedSignersName}");
        }
        if (keys is not null)
        {
            sync.WithEnvironment("GITSYNC_OPENPGP_KEYS", run ? keys : $"{TrustFolder}/{Deployment.SignatureTrust.OpenPgpKeysFolder}");
        }
        return sync;
    }
}
