using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Sidecar.GitSync.SignatureVerification;
using Sidecar.GitSync.CommandLine;
using Sidecar.GitSync.Sync;
using Sidecar.GitSync.Telemetry;

namespace Sidecar.GitSync.Tests;

/// <summary>
/// <c>--verify-signatures</c> end to end: a sidecar syncing from a smart-HTTP origin refuses (enforce) or records
/// (audit) what is pushed unsigned or signed by a stranger, and says so in /status, the error file, /metrics and the span.
/// </summary>
[Trait("Category", "External")]
public sealed class SignatureSyncTests : IAsyncLifetime
{
    private SyncTestBed bed = null!;
    private readonly SigningKit kit = new();
    private string trusted = "";
    private string stranger = "";
    private string allowedSigners = "";

    public async Task InitializeAsync()
    {
        bed = await SyncTestBed.StartAsync();
        trusted = await kit.SshKeyAsync("ed25519", "trusted");
        stranger = await kit.SshKeyAsync("ed25519", "stranger");
        allowedSigners = kit.AllowedSigners("allowed_signers", $"release@example.com namespaces=\"git\" {SigningKit.PublicKey(trusted)}");
    }

    public async Task DisposeAsync()
    {
        await bed.DisposeAsync();
        kit.Dispose();
    }

    private async Task<(WebApplication App, HttpClient Client)> StartAsync(SignatureVerificationMode mode, string gitRef = "HEAD")
    {
        var app = GitSyncApp.Build(bed.Options(o =>
        {
            o.Ref = gitRef;
            o.OneTime = false;
            // A long period: the test syncs when it wants to.
            o.Period = TimeSpan.FromHours(1);
            o.HttpBind = "127.0.0.1:0";
            o.HttpMetrics = true;
            o.MaxFailures = -1;
            o.ErrorFile = "error.json";
            o.VerifySignatures = mode;
            o.AllowedSignersFile = allowedSigners;
        }));
        await app.StartAsync();
        return (app, new HttpClient { BaseAddress = new Uri(app.Urls.First()) });
    }

    [Fact]
    public async Task EnforceRefusesAnUnsignedPushAndKeepsServingTheLastGoodRevision()
    {
        var good = await kit.SignedCommitAsync(bed.Repository, trusted, "signed release", "index.html", "good");
        var spans = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == GitSyncTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity => { lock (spans) { spans.Add(activity); } },
        };
        ActivitySource.AddActivityListener(listener);
        var (app, client) = await StartAsync(SignatureVerificationMode.Enforce);
        await using var _ = app;
        using var __ = client;
        await Eventually.HoldsAsync(() => bed.LinkTarget == $".worktrees/{good}", "the signed revision is published");

        var unsigned = await bed.Repository.CommitAsync("unsigned", ("index.html", "pushed without a signature"));
        var result = await app.Services.GetRequiredService<GitSynchronizer>().SyncAsync(CancellationToken.None);

        Assert.Equal(SyncOutcome.Error, result.Outcome);
        Assert.Contains($"commit {unsigned} signature is unsigned", result.Error);
        Assert.Equal($".worktrees/{good}", bed.LinkTarget);
        Assert.Equal("good", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "index.html")));
        Assert.DoesNotContain(unsigned, bed.Snapshots);
        using (var status = JsonDocument.Parse(await client.GetStringAsync("/status")))
        {
            var root = status.RootElement;
            Assert.Equal(good, root.GetProperty("revision").GetString());
            Assert.Equal("error", root.GetProperty("lastOutcome").GetString());
            Assert.Equal("unsigned", root.GetProperty("signature").GetProperty("verdict").GetString());
            Assert.Equal($"commit {unsigned}", root.GetProperty("signature").GetProperty("object").GetString());
            Assert.Equal("good", root.GetProperty("revisionSignature").GetProperty("verdict").GetString());
            Assert.Equal(await kit.SshFingerprintAsync(trusted), root.GetProperty("revisionSignature").GetProperty("signer").GetString());
            Assert.Equal("release@example.com", root.GetProperty("revisionSignature").GetProperty("principal").GetString());
        }
        var errorFile = await File.ReadAllTextAsync(bed.Root.Combine("error.json"));
        Assert.Contains(unsigned, errorFile);
        Assert.Contains("enforce: not published", errorFile);

        // Signed, but by a key the allowed signers do not name: refused, and the error names that key.
        var strangers = await kit.SignedCommitAsync(bed.Repository, stranger, "signed by a stranger", "index.html", "stranger");
        result = await app.Services.GetRequiredService<GitSynchronizer>().SyncAsync(CancellationToken.None);
        var strangerKey = await kit.SshFingerprintAsync(stranger);
        Assert.Equal(SyncOutcome.Error, result.Outcome);
        Assert.Contains($"commit {strangers} signature is untrusted", result.Error);
        Assert.Contains($"signer key: {strangerKey}", result.Error);
        Assert.Equal($".worktrees/{good}", bed.LinkTarget);
        var refused = spans.Last(s => s.OperationName == "sync" && (string?)s.GetTagItem("gitsync.revision") == strangers);
        Assert.Equal("untrusted", refused.GetTagItem("gitsync.signature.verdict"));
        Assert.Equal(strangerKey, refused.GetTagItem("gitsync.signature.signer"));

        // A trusted signature again: published, the failure streak and the error file end.
        var fixedUp = await kit.SignedCommitAsync(bed.Repository, trusted, "signed again", "index.html", "fixed");
        result = await app.Services.GetRequiredService<GitSynchronizer>().SyncAsync(CancellationToken.None);
        Assert.Equal(SyncOutcome.Success, result.Outcome);
        Assert.Equal($".worktrees/{fixedUp}", bed.LinkTarget);
        Assert.False(File.Exists(bed.Root.Combine("error.json")));
        var published = spans.Last(s => s.OperationName == "sync" && (string?)s.GetTagItem("gitsync.revision") == fixedUp);
        Assert.Equal("good", published.GetTagItem("gitsync.signature.verdict"));
        Assert.Equal("release@example.com", published.GetTagItem("gitsync.signature.principal"));

        var metrics = await client.GetStringAsync("/metrics");
        Assert.Contains("gitsync_signature_verifications_total{verdict=\"good\"} 2", metrics);
        Assert.Contains("gitsync_signature_verifications_total{verdict=\"unsigned\"} 1", metrics);
        Assert.Contains("gitsync_signature_verifications_total{verdict=\"untrusted\"} 1", metrics);
    }

    [Fact]
    public async Task AuditPublishesAnUnsignedPushAndRecordsTheVerdict()
    {
        var good = await kit.SignedCommitAsync(bed.Repository, trusted, "signed release", "index.html", "good");
        var (app, client) = await StartAsync(SignatureVerificationMode.Audit);
        await using var _ = app;
        using var __ = client;
        await Eventually.HoldsAsync(() => bed.LinkTarget == $".worktrees/{good}", "the signed revision is published");
        Assert.False(File.Exists(bed.Root.Combine("error.json")));

        var unsigned = await bed.Repository.CommitAsync("unsigned", ("index.html", "pushed without a signature"));
        var result = await app.Services.GetRequiredService<GitSynchronizer>().SyncAsync(CancellationToken.None);

        Assert.Equal(SyncOutcome.Success, result.Outcome);
        Assert.Equal($".worktrees/{unsigned}", bed.LinkTarget);
        using (var status = JsonDocument.Parse(await client.GetStringAsync("/status")))
        {
            var root = status.RootElement;
            Assert.Equal(unsigned, root.GetProperty("revision").GetString());
            Assert.Equal("success", root.GetProperty("lastOutcome").GetString());
            Assert.Equal("unsigned", root.GetProperty("revisionSignature").GetProperty("verdict").GetString());
            Assert.Equal($"commit {unsigned}", root.GetProperty("revisionSignature").GetProperty("object").GetString());
        }
        var errorFile = await File.ReadAllTextAsync(bed.Root.Combine("error.json"));
        Assert.Contains($"commit {unsigned} signature is unsigned", errorFile);
        Assert.Contains("audit: published anyway", errorFile);
        var metrics = await client.GetStringAsync("/metrics");
        Assert.Contains("gitsync_signature_verifications_total{verdict=\"good\"} 1", metrics);
        Assert.Contains("gitsync_signature_verifications_total{verdict=\"unsigned\"} 1", metrics);
    }

    [Fact]
    public async Task EnforceOnATagRefPublishesASignedTagOfAnUnsignedCommit()
    {
        var commit = await bed.Repository.CommitAsync("unsigned", ("index.html", "tagged"));
        await kit.GitAsync(bed.Repository.WorkTree, "--git-dir=" + bed.Repository.BarePath, "-c", "gpg.format=ssh", "-c", "user.signingkey=" + trusted,
            "tag", "-s", "-m", "release 1", "v1", commit);
        var tag = (await bed.Repository.GitAsync("rev-parse", "v1")).Trim();

        var result = await bed.SyncOnceAsync(bed.Options(o =>
        {
            o.Ref = "v1";
            o.VerifySignatures = SignatureVerificationMode.Enforce;
            o.AllowedSignersFile = allowedSigners;
        }));

        Assert.Equal(SyncOutcome.Success, result.Outcome);
        Assert.Equal($".worktrees/{commit}", bed.LinkTarget);

        // The branch names the same unsigned commit: refused.
        var branch = await bed.SyncOnceAsync(bed.Options(o =>
        {
            o.Root = bed.Root.Combine("by-branch");
            o.VerifySignatures = SignatureVerificationMode.Enforce;
            o.AllowedSignersFile = allowedSigners;
        }));
        Assert.Equal(SyncOutcome.Error, branch.Outcome);
        Assert.Contains($"commit {commit} signature is unsigned", branch.Error);
        Assert.NotEqual(commit, tag);
    }

    [Fact]
    public async Task EnforceWithoutATrustSourceIsAStartUpError()
    {
        var (exitCode, output) = await SidecarProcess.RunAsync(
            ["--repo", bed.Repository.Url, "--root", bed.Root.Path, "--one-time", "--verify-signatures=enforce"]);

        Assert.Equal(2, exitCode);
        Assert.Contains("--verify-signatures=enforce has nothing to trust: give --allowed-signers-file=PATH", output);
        Assert.False(File.Exists(bed.LinkPath));
    }

    [Theory]
    [InlineData("GITSYNC_VERIFY_SIGNATURES", "sometimes", "--verify-signatures 'sometimes' is not a mode")]
    [InlineData("GITSYNC_ALLOWED_SIGNERS_FILE", "/nonexistent/allowed_signers", "--allowed-signers-file '/nonexistent/allowed_signers': no such file")]
    [InlineData("GITSYNC_OPENPGP_KEYS", "/nonexistent/keys", "--openpgp-keys '/nonexistent/keys': no such file")]
    public void BadSignatureSettingsAreNamedWithTheirFix(string variable, string value, string message)
    {
        var environment = new Dictionary<string, string>
        {
            ["GITSYNC_REPO"] = bed.Repository.Url,
            ["GITSYNC_ROOT"] = bed.Root.Path,
            ["GITSYNC_VERIFY_SIGNATURES"] = "audit",
            [variable] = value,
        };
        var result = GitSyncCommandLine.Parse([], environment.GetValueOrDefault);

        Assert.Contains(result.Errors, e => e.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void AMalformedAllowedSignersLineIsNamedAtStartUp()
    {
        var bad = kit.AllowedSigners("bad_signers", "# comment", $"release@example.com valid-before=\"tomorrow\" {SigningKit.PublicKey(trusted)}");
        var result = GitSyncCommandLine.Parse(
            ["--repo", bed.Repository.Url, "--root", bed.Root.Path, "--verify-signatures", "enforce", "--allowed-signers-file", bad], _ => null);

        var error = Assert.Single(result.Errors);
        Assert.Contains($"{bad} line 2: valid-before=\"tomorrow\" is not a time", error);
    }
}
