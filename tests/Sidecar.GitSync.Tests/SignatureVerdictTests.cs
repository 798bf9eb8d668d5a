using LibGit2Sharp;
using Sidecar.GitSync.SignatureVerification;
using Sidecar.GitSync.CommandLine;

namespace Sidecar.GitSync.Tests;

/// <summary>Keys made once for the verdict tests: SSH ed25519, ECDSA and RSA, OpenPGP RSA and EdDSA, and strangers' keys.</summary>
public sealed class SigningKeys : IAsyncLifetime
{
    public SigningKit Kit { get; } = new();

    public string Ed25519 { get; private set; } = "";
    public string Ecdsa { get; private set; } = "";
    public string Rsa { get; private set; } = "";
    public string Stranger { get; private set; } = "";
    public string OpenPgpRsa { get; private set; } = "";
    public string OpenPgpEdDsa { get; private set; } = "";
    public string OpenPgpStranger { get; private set; } = "";

    /// <summary>The three SSH keys, one line each (ed25519 limited to git's namespace, as git's docs suggest).</summary>
    public string AllowedSigners { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Ed25519 = await Kit.SshKeyAsync("ed25519", "ed25519");
        Ecdsa = await Kit.SshKeyAsync("ecdsa", "ecdsa");
        Rsa = await Kit.SshKeyAsync("rsa", "rsa");
        Stranger = await Kit.SshKeyAsync("ed25519", "stranger");
        AllowedSigners = Kit.AllowedSigners("allowed_signers",
            "# who may sign what this sidecar publishes",
            $"ed@example.com namespaces=\"git\" {SigningKit.PublicKey(Ed25519)}",
            $"ec@example.com {SigningKit.PublicKey(Ecdsa)}",
            $"\"rsa@example.com,ops@example.com\" {SigningKit.PublicKey(Rsa)} rsa key");
        OpenPgpRsa = await Kit.OpenPgpKeyAsync("rsa2048", "rsa@example.com");
        OpenPgpEdDsa = await Kit.OpenPgpKeyAsync("ed25519", "eddsa@example.com");
        OpenPgpStranger = await Kit.OpenPgpKeyAsync("ed25519", "stranger@example.com");
        await Kit.TrustOpenPgpKeyAsync(OpenPgpRsa);
        await Kit.TrustOpenPgpKeyAsync(OpenPgpEdDsa);
    }

    public Task DisposeAsync()
    {
        Kit.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>
/// The sidecar's verdict on signatures made by the real tools (git with ssh-keygen, gpg), set beside git's own
/// (<c>git verify-commit</c> / <c>git verify-tag</c> with the same allowed signers file and OpenPGP keys).
/// </summary>
[Trait("Category", "External")]
public sealed class SignatureVerdictTests(SigningKeys keys) : IClassFixture<SigningKeys>
{
    private SigningKit Kit => keys.Kit;

    private async Task<SignatureVerdict> AssertAsGitAsync(string repository, string commit, SignatureVerdictKind expected,
        string? allowedSigners = null, string? tag = null)
    {
        allowedSigners ??= keys.AllowedSigners;
        var options = new GitSyncOptions { VerifySignatures = SignatureVerificationMode.Enforce, AllowedSignersFile = allowedSigners, OpenPgpKeys = Kit.OpenPgpKeysFolder };
        SignatureVerdict verdict;
        using (var store = new Repository(repository))
        {
            verdict = new RevisionSignatureVerifier(options, TimeProvider.System).Verify(store, commit, tag);
        }
        var git = await Kit.GitVerifyAsync(repository, allowedSigners, tag is null ? "verify-commit" : "verify-tag", tag ?? commit);
        Assert.True(expected == verdict.Kind, $"expected {expected}, the sidecar says: {verdict.Describe()}");
        Assert.True((git.ExitCode == 0) == verdict.IsGood, $"git says ({git.ExitCode}): {git.Output}; the sidecar says: {verdict.Describe()}");
        Assert.Equal(tag ?? commit, verdict.ObjectId);
        if (verdict.IsGood)
        {
            // git names the same key: ssh-keygen's SHA256 fingerprint, or gpg's fingerprint.
            Assert.Contains(verdict.Signer!, git.Output, StringComparison.OrdinalIgnoreCase);
        }
        return verdict;
    }

    [Theory]
    [InlineData("ed25519", "ed@example.com")]
    [InlineData("ecdsa", "ec@example.com")]
    [InlineData("rsa", "rsa@example.com,ops@example.com")]
    public async Task AGoodSshSignatureIsGoodAsForGit(string type, string principal)
    {
        var key = type switch { "ed25519" => keys.Ed25519, "ecdsa" => keys.Ecdsa, _ => keys.Rsa };
        var repository = await Kit.NewRepositoryAsync($"good-{type}");
        var commit = await Kit.CommitAsync(repository, "signed", sshKey: key);

        var verdict = await AssertAsGitAsync(repository, commit, SignatureVerdictKind.Good);

        Assert.Equal("ssh", verdict.Format);
        Assert.Equal(principal, verdict.Principal);
        Assert.StartsWith("SHA256:", verdict.Signer);
    }

    [Theory]
    [InlineData("rsa")]
    [InlineData("eddsa")]
    public async Task AGoodOpenPgpSignatureIsGoodAsForGit(string type)
    {
        var key = type == "rsa" ? keys.OpenPgpRsa : keys.OpenPgpEdDsa;
        var repository = await Kit.NewRepositoryAsync($"good-openpgp-{type}");
        var commit = await Kit.CommitAsync(repository, "signed", openPgpKey: key);

        var verdict = await AssertAsGitAsync(repository, commit, SignatureVerdictKind.Good);

        Assert.Equal("openpgp", verdict.Format);
        Assert.Equal(key, verdict.Signer);
    }

    [Fact]
    public async Task AnUnsignedCommitIsUnsignedAsForGit()
    {
        var repository = await Kit.NewRepositoryAsync("unsigned");
        var commit = await Kit.CommitAsync(repository, "not signed");

        var verdict = await AssertAsGitAsync(repository, commit, SignatureVerdictKind.Unsigned);

        Assert.Null(verdict.Signer);
    }

    [Fact]
    public async Task AnSshKeyNotInTheAllowedSignersIsUntrustedAsForGit()
    {
        var repository = await Kit.NewRepositoryAsync("stranger");
        var commit = await Kit.CommitAsync(repository, "signed by a stranger", sshKey: keys.Stranger);

        var verdict = await AssertAsGitAsync(repository, commit, SignatureVerdictKind.Untrusted);

        Assert.Contains("is not in the allowed signers file", verdict.Reason);
        Assert.StartsWith("SHA256:", verdict.Signer);
    }

    [Fact]
    public async Task AnOpenPgpKeyNotInTheKeysIsUntrustedAsForGit()
    {
        var repository = await Kit.NewRepositoryAsync("openpgp-stranger");
        var commit = await Kit.CommitAsync(repository, "signed by a stranger", openPgpKey: keys.OpenPgpStranger);

        var verdict = await AssertAsGitAsync(repository, commit, SignatureVerdictKind.Untrusted);

        Assert.Contains("is not in --openpgp-keys", verdict.Reason);
        Assert.EndsWith(verdict.Signer!, keys.OpenPgpStranger);
    }

    [Theory]
    [InlineData("valid-before=\"20200101Z\"", "valid only before")]
    [InlineData("valid-after=\"20991231235959Z\"", "valid only after")]
    public async Task APrincipalOutsideItsValidityWindowIsUntrustedAsForGit(string window, string reason)
    {
        var allowed = Kit.AllowedSigners($"window-{Guid.NewGuid():N}", $"ed@example.com {window} {SigningKit.PublicKey(keys.Ed25519)}");
        var repository = await Kit.NewRepositoryAsync($"window-{Guid.NewGuid():N}");
        var commit = await Kit.CommitAsync(repository, "signed", sshKey: keys.Ed25519);

        var verdict = await AssertAsGitAsync(repository, commit, SignatureVerdictKind.Untrusted, allowed);

        Assert.Contains(reason, verdict.Reason);
    }

    [Fact]
    public async Task AKeyAllowedOnlyInAnotherNamespaceIsUntrustedAsForGit()
    {
        var allowed = Kit.AllowedSigners("namespace-file", $"ed@example.com namespaces=\"file\" {SigningKit.PublicKey(keys.Ed25519)}");
        var repository = await Kit.NewRepositoryAsync("namespace-option");
        var commit = await Kit.CommitAsync(repository, "signed", sshKey: keys.Ed25519);

        var verdict = await AssertAsGitAsync(repository, commit, SignatureVerdictKind.Untrusted, allowed);

        Assert.Contains("may sign only in namespaces \"file\"", verdict.Reason);
    }

    [Fact]
    public async Task ASignatureMadeForAnotherNamespaceIsBadAsForGit()
    {
        var repository = await Kit.NewRepositoryAsync("namespace-signature");
        var unsigned = await Kit.CommitAsync(repository, "signed for files");
        var raw = await Kit.GitAsync(repository, "cat-file", "commit", unsigned);
        // What git would sign, signed by ssh-keygen in the namespace "file" instead of "git".
        var signature = await Kit.SshSignAsync(keys.Ed25519, "file", raw);
        var commit = await Kit.WriteCommitObjectAsync(repository, WithSignatureHeader(raw, signature));

        var verdict = await AssertAsGitAsync(repository, commit, SignatureVerdictKind.Bad);

        Assert.Contains("namespace \"file\"", verdict.Reason);
    }

    [Theory]
    [InlineData("ssh")]
    [InlineData("openpgp")]
    public async Task ACommitChangedAfterSigningIsBadAsForGit(string format)
    {
        var repository = await Kit.NewRepositoryAsync($"changed-{format}");
        var signed = format == "ssh"
            ? await Kit.CommitAsync(repository, "the signed message", sshKey: keys.Ed25519)
            : await Kit.CommitAsync(repository, "the signed message", openPgpKey: keys.OpenPgpRsa);
        var raw = await Kit.GitAsync(repository, "cat-file", "commit", signed);
        var commit = await Kit.WriteCommitObjectAsync(repository, raw.Replace("the signed message", "a changed message"));

        var verdict = await AssertAsGitAsync(repository, commit, SignatureVerdictKind.Bad);

        Assert.Contains("changed after signing", verdict.Reason);
    }

    [Fact]
    public async Task ASignedTagOnAnUnsignedCommitIsGoodAsATagAndUnsignedAsACommit()
    {
        var repository = await Kit.NewRepositoryAsync("tag");
        var commit = await Kit.CommitAsync(repository, "not signed");
        await Kit.GitAsync(repository, "-c", "gpg.format=ssh", "-c", "user.signingkey=" + keys.Ed25519, "tag", "-s", "-m", "release 1", "v1", commit);
        var tag = (await Kit.GitAsync(repository, "rev-parse", "v1")).Trim();

        var tagVerdict = await AssertAsGitAsync(repository, commit, SignatureVerdictKind.Good, tag: tag);
        await AssertAsGitAsync(repository, commit, SignatureVerdictKind.Unsigned);

        Assert.Equal("tag", tagVerdict.ObjectType);
        Assert.Equal("ed@example.com", tagVerdict.Principal);
    }

    [Fact]
    public async Task AnOpenPgpSignedTagIsGoodAsForGit()
    {
        var repository = await Kit.NewRepositoryAsync("openpgp-tag");
        var commit = await Kit.CommitAsync(repository, "not signed");
        await Kit.GitAsync(repository, "-c", "user.signingkey=" + keys.OpenPgpEdDsa, "tag", "-s", "-m", "release 2", "v2", commit);
        var tag = (await Kit.GitAsync(repository, "rev-parse", "v2")).Trim();

        var verdict = await AssertAsGitAsync(repository, commit, SignatureVerdictKind.Good, tag: tag);

        Assert.Equal(keys.OpenPgpEdDsa, verdict.Signer);
    }

    // git's layout: the gpgsig header last among the headers, its continuation lines indented by one space.
    private static string WithSignatureHeader(string raw, string signature)
    {
        var end = raw.IndexOf("\n\n", StringComparison.Ordinal);
        return raw[..end] + "\ngpgsig " + signature.TrimEnd('\n').Replace("\n", "\n ") + raw[end..];
    }
}
