using System.Text.Json.Serialization;
using Sidecar.GitSync.Git;

namespace Sidecar.GitSync.CommandLine;

/// <summary>The settings of one git-sync process, named as kubernetes/git-sync v4 names its flags.</summary>
public sealed class GitSyncOptions
{
    /// <summary>The git repository to sync (<c>--repo</c>).</summary>
    public string Repo { get; set; } = "";

    /// <summary>The folder that holds <c>.git</c>, <c>.worktrees</c> and the link (<c>--root</c>).</summary>
    public string Root { get; set; } = "";

    /// <summary>The link to publish, relative to <see cref="Root"/> unless absolute (<c>--link</c>); empty means the last part of the repo URL.</summary>
    public string Link { get; set; } = "";

    /// <summary>The branch, tag, commit or <c>HEAD</c> to sync (<c>--ref</c>).</summary>
    public string Ref { get; set; } = "HEAD";

    /// <summary>How long to wait between syncs (<c>--period</c>).</summary>
    public TimeSpan Period { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How many commits of history to fetch; 0 fetches all of it (<c>--depth</c>).</summary>
    public int Depth { get; set; } = 1;

    /// <summary>Exit after one sync: 0 when it succeeded, 1 when it failed (<c>--one-time</c>).</summary>
    public bool OneTime { get; set; }

    /// <summary>Where to serve the readiness endpoint, e.g. <c>127.0.0.1:8080</c> or <c>:8080</c> (<c>--http-bind</c>); empty serves nothing.</summary>
    public string HttpBind { get; set; } = "";

    /// <summary>The longest one whole sync may take (<c>--sync-timeout</c>).</summary>
    public TimeSpan SyncTimeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>Consecutive failures allowed before the process exits 1; negative retries forever (<c>--max-failures</c>).</summary>
    public int MaxFailures { get; set; }

    /// <summary>The wait between attempts until the first success; null uses <see cref="Period"/> (<c>--init-period</c>).</summary>
    public TimeSpan? InitPeriod { get; set; }

    /// <summary>Consecutive failures allowed before the first success; null uses <see cref="MaxFailures"/> (<c>--init-max-failures</c>).</summary>
    public int? InitMaxFailures { get; set; }

    /// <summary>How long a replaced snapshot is kept before it is removed (<c>--stale-worktree-timeout</c>).</summary>
    public TimeSpan StaleWorktreeTimeout { get; set; } = TimeSpan.Zero;

    /// <summary>Publish files whose name starts with <c>.git</c> (.gitignore, .gitattributes, ...) (<c>--publish-git-files</c>).</summary>
    public bool PublishGitFiles { get; set; }

    /// <summary>Called after each publish, with header <c>Gitsync-Hash</c> (<c>--webhook-url</c>).</summary>
    public string WebhookUrl { get; set; } = "";

    public string WebhookMethod { get; set; } = "POST";

    /// <summary>The status that counts as success; 0 means fire and forget (<c>--webhook-success-status</c>).</summary>
    public int WebhookSuccessStatus { get; set; } = 200;

    public TimeSpan WebhookTimeout { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan WebhookBackoff { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Sent as <c>Authorization: Bearer</c> with each webhook call, from <c>GITSYNC_WEBHOOK_TOKEN</c> only.</summary>
    public string WebhookToken { get; set; } = "";

    /// <summary>Run in the published snapshot after each publish, with <c>GITSYNC_HASH</c> set (<c>--exechook-command</c>).</summary>
    public string ExechookCommand { get; set; } = "";

    public TimeSpan ExechookTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan ExechookBackoff { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Touched after each new publish; relative paths are under the root (<c>--touch-file</c>).</summary>
    public string TouchFile { get; set; } = "";

    /// <summary>Holds the last error as JSON, removed after a good sync; relative paths are under the root (<c>--error-file</c>).</summary>
    public string ErrorFile { get; set; } = "";

    /// <summary>A signal name or number that starts a sync now, e.g. <c>SIGHUP</c> (<c>--sync-on-signal</c>).</summary>
    public string SyncOnSignal { get; set; } = "";

    /// <summary>Make everything written group-writable (<c>--group-write</c>).</summary>
    public bool GroupWrite { get; set; }

    /// <summary>Log verbosity: 0 logs updates, higher logs more (<c>-v</c>).</summary>
    public int Verbosity { get; set; }

    /// <summary>Serve Prometheus text at <c>/metrics</c> on <see cref="HttpBind"/> (<c>--http-metrics</c>).</summary>
    public bool HttpMetrics { get; set; }

    /// <summary>The shared secret <c>POST /sync</c> requires (<c>--webhook-secret</c>).</summary>
    public string WebhookSecret { get; set; } = "";

    /// <summary>The user name for HTTP(S) auth (<c>--username</c>).</summary>
    public string Username { get; set; } = "";

    /// <summary>The password for HTTP(S) auth, from <c>GITSYNC_PASSWORD</c> only.</summary>
    public string Password { get; set; } = "";

    /// <summary>A file holding the password, read again before every sync (<c>--password-file</c>).</summary>
    public string PasswordFile { get; set; } = "";

    /// <summary>Credentials for specific URLs (<c>--credential</c>, JSON; may be given more than once).</summary>
    public List<GitCredential> Credentials { get; } = [];

    /// <summary>Private keys for SSH repos (<c>--ssh-key-file</c>); empty means git-sync's default, <c>/etc/git-secret/ssh</c>.</summary>
    public List<string> SshKeyFiles { get; } = [];

    /// <summary>Check the server's host key against <see cref="SshKnownHostsFile"/> (<c>--ssh-known-hosts</c>).</summary>
    public bool SshKnownHosts { get; set; } = true;

    public string SshKnownHostsFile { get; set; } = "/etc/git-secret/known_hosts";

    /// <summary>The ssh command the SSH flags are added to: the inherited <c>$GIT_SSH_COMMAND</c>, else <c>ssh</c>.</summary>
    public string SshCommand { get; set; } = "ssh";

    /// <summary>recursive (all levels), shallow (the first level) or off (<c>--submodules</c>).</summary>
    public SubmoduleMode Submodules { get; set; } = SubmoduleMode.Recursive;

    /// <summary>A file of git sparse-checkout patterns, read again for each new snapshot (<c>--sparse-checkout-file</c>); empty publishes every file.</summary>
    public string SparseCheckoutFile { get; set; } = "";

    /// <summary>When to repack the object store after cleanup: auto, always, aggressive or off (<c>--git-gc</c>).</summary>
    /// <remarks>git-sync v4's code defaults to always (its help text says auto): the suite's disk bounds rely on it.</remarks>
    public GitGcMode GitGc { get; set; } = GitGcMode.Always;

    /// <summary>git's partial-clone filter (<c>--filter</c>); accepted, and logged: libgit2 fetches every blob of the commits it fetches.</summary>
    public string Filter { get; set; } = "";

    /// <summary>git config settings (<c>--git-config</c>), in the order given.</summary>
    public IReadOnlyList<GitConfigEntry> GitConfig
    {
        get => GitConfigSettings.Entries;
        set => GitConfigSettings = new GitConfigSettings(value);
    }

    /// <summary>The <c>--git-config</c> settings, with what they mean to this sidecar.</summary>
    public GitConfigSettings GitConfigSettings { get; private set; } = new([]);

    /// <summary>A URL answering <c>username=</c> and <c>password=</c> lines, asked before each sync (<c>--askpass-url</c>).</summary>
    public string AskPassUrl { get; set; } = "";

    /// <summary>Send the cookies of <see cref="CookieFilePath"/> to the git server (<c>--cookie-file</c>).</summary>
    public bool CookieFile { get; set; }

    /// <summary>Where <c>--cookie-file</c> reads the cookies from, as git-sync: a fixed path.</summary>
    public string CookieFilePath { get; set; } = "/etc/git-secret/cookie_file";

    /// <summary>The GitHub API for GitHub App auth (<c>--github-base-url</c>).</summary>
    public string GitHubBaseUrl { get; set; } = "https://api.github.com/";

    public string GitHubAppPrivateKeyFile { get; set; } = "";

    /// <summary>The private key itself, from <c>GITSYNC_GITHUB_APP_PRIVATE_KEY</c> only.</summary>
    public string GitHubAppPrivateKey { get; set; } = "";

    public string GitHubAppClientId { get; set; } = "";

    public int GitHubAppApplicationId { get; set; }

    public int GitHubAppInstallationId { get; set; }

    /// <summary>GitHub App auth is on when an app and its installation are named.</summary>
    public bool UsesGitHubApp => (GitHubAppApplicationId != 0 || GitHubAppClientId.Length > 0) && GitHubAppInstallationId != 0;

    /// <summary>Add an <c>/etc/passwd</c> entry for the running UID when it has none (<c>--add-user</c>).</summary>
    public bool AddUser { get; set; }

    /// <summary>The git binary git-sync would run (<c>--git</c>); accepted and not used.</summary>
    public string? GitCommand { get; set; }

    /// <summary>Go's pprof endpoints (<c>--http-pprof</c>); accepted, nothing is served.</summary>
    public bool HttpPprof { get; set; }

    /// <summary>The password given with the deprecated <c>--password</c> flag, which wins over the variable.</summary>
    internal string? PasswordFromFlag { get; set; }

    /// <summary>The credential the last refresh got (<see cref="CredentialRefresh"/>), offered first for the host of <see cref="Repo"/>.</summary>
    public RefreshedCredential? RefreshedCredential { get; internal set; }

    /// <summary>One line each for flags accepted but done differently here, logged once at start.</summary>
    public List<string> StartupNotices { get; } = [];

    /// <summary>git's <c>gc.autoPackLimit</c> for <see cref="GitGcMode.Auto"/>; settable for tests only.</summary>
    internal int GcAutoPackLimit { get; set; } = GitGarbageCollector.DefaultAutoPackLimit;

    /// <summary>git's <c>gc.auto</c> (loose objects) for <see cref="GitGcMode.Auto"/>; settable for tests only.</summary>
    internal int GcAutoLooseObjects { get; set; } = GitGarbageCollector.DefaultAutoLooseObjects;

    /// <summary>Whether to verify commit and tag signatures: off, audit or enforce (<c>--verify-signatures</c>).</summary>
    public SignatureVerification.SignatureVerificationMode VerifySignatures { get; set; }

    /// <summary>git's <c>gpg.ssh.allowedSignersFile</c>: the SSH keys trusted to sign (<c>--allowed-signers-file</c>).</summary>
    public string AllowedSignersFile { get; set; } = "";

    /// <summary>A file or folder of OpenPGP public keys trusted to sign (<c>--openpgp-keys</c>).</summary>
    public string OpenPgpKeys { get; set; } = "";

    /// <summary>Resolves a path flag as git-sync does: a relative path is under the root; empty stays empty.</summary>
    public string UnderRoot(string path) =>
        path.Length == 0 ? "" : Path.GetFullPath(Path.IsPathRooted(path) ? path : Path.Combine(Root, path));

    /// <summary>The absolute path of the link, resolved as git-sync does: a relative link lives under the root.</summary>
    public string LinkPath => Path.GetFullPath(Path.IsPathRooted(Link) ? Link : Path.Combine(Root, Link));

    /// <summary>git-sync's default link name: the last part of the repo URL without <c>.git</c>.</summary>
    public static string DefaultLinkFor(string repo)
    {
        var trimmed = repo.TrimEnd('/');
        var name = trimmed[(trimmed.LastIndexOfAny(['/', ':', '\\']) + 1)..];
        return name.EndsWith(".git", StringComparison.Ordinal) ? name[..^4] : name;
    }
}

/// <summary>The values of <c>--submodules</c>, spelled in lower case on the command line as git-sync spells them.</summary>
public enum SubmoduleMode
{
    /// <summary>Every level of submodules is checked out.</summary>
    Recursive,

    /// <summary>Only the repository's own submodules; theirs stay empty folders.</summary>
    Shallow,

    /// <summary>Submodules stay empty folders.</summary>
    Off,
}

/// <summary>One <c>--credential</c>: a user name and password (or a file holding it) for URLs under <see cref="Url"/>.</summary>
public sealed class GitCredential
{
    [JsonPropertyName("url")]
    public string Url { get; set; } = "";

    [JsonPropertyName("username")]
    public string Username { get; set; } = "";

    [JsonPropertyName("password")]
    public string? Password { get; set; }

    [JsonPropertyName("password-file")]
    public string? PasswordFile { get; set; }
}

[JsonSerializable(typeof(GitCredential))]
[JsonSerializable(typeof(List<GitCredential>))]
internal sealed partial class CredentialJson : JsonSerializerContext;
