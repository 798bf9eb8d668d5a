using System.Runtime.InteropServices;
using System.Text;
using Sidecar.GitSync.CommandLine;

namespace Sidecar.GitSync.Git;

/// <summary>
/// SSH repositories, the way git-sync v4 reaches them: the system <c>ssh</c> client with
/// <c>-i KEY</c> for each <c>--ssh-key-file</c> and strict host key checking against
/// <c>--ssh-known-hosts-file</c>. libgit2 (as built for LibGit2Sharp 0.32) runs <c>ssh</c> itself
/// (its exec transport), taking the command from <c>$GIT_SSH_COMMAND</c>, <c>$GIT_SSH</c>, then the
/// repository's <c>core.sshCommand</c>. It runs <c>core.sshCommand</c> without a shell, as a single
/// program with no arguments of its own, so the options go into a small script in <c>ROOT/.git</c> that
/// <c>core.sshCommand</c> names. The script also keeps ssh's messages in a file, so a failed sync can
/// say why ssh failed, and pipes libgit2's side through <see cref="SshNegotiationFilter"/>, so shallow fetches work.
/// </summary>
public static partial class SshTransport
{
    /// <summary>git-sync's default <c>--ssh-key-file</c>.</summary>
    public const string DefaultKeyFile = "/etc/git-secret/ssh";

    /// <summary>The shell libgit2 and the script need; chiseled images have none.</summary>
    public const string Shell = "/bin/sh";

    /// <summary>The variable git-sync extends with its options; libgit2 must not see it, or it would skip ours.</summary>
    public const string CommandVariable = "GIT_SSH_COMMAND";

    /// <summary>Runs ssh without a shell; git ignores it when <c>GIT_SSH_COMMAND</c> is set, as git-sync sets it.</summary>
    public const string ProgramVariable = "GIT_SSH";

    public const string ScriptName = "sidecar-ssh";

    public const string MessagesName = "sidecar-ssh.stderr";

    /// <summary>True for <c>ssh://</c> (and <c>ssh+git://</c>, <c>git+ssh://</c>) and scp-like <c>[user@]host:path</c> URLs.</summary>
    public static bool IsSsh(string repo)
    {
        if (repo.StartsWith("ssh://", StringComparison.OrdinalIgnoreCase)
            || repo.StartsWith("git+ssh://", StringComparison.OrdinalIgnoreCase)
            || repo.StartsWith("ssh+git://", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        // scp-like, as git reads it: a colon before any slash, and no scheme. "C:" is a Windows drive, not a host.
        var colon = repo.IndexOf(':');
        var slash = repo.IndexOf('/');
        return !repo.Contains("://", StringComparison.Ordinal) && colon > 1 && (slash < 0 || colon < slash);
    }

    /// <summary>The key files ssh is given: <c>--ssh-key-file</c>, else git-sync's default.</summary>
    public static IReadOnlyList<string> KeyFiles(GitSyncOptions options) =>
        options.SshKeyFiles.Count > 0 ? options.SshKeyFiles : [DefaultKeyFile];

    /// <summary>
    /// The ssh command line, as git-sync builds <c>GIT_SSH_COMMAND</c>: the inherited <c>$GIT_SSH_COMMAND</c>
    /// (else <c>ssh</c>), <c>-i</c> per key, then host key checking. Paths are quoted for the shell. (ssh's messages go
    /// to a file and into the error of a failed sync, so git-sync's <c>-v</c> for ssh at high verbosity is not added.)
    /// </summary>
    public static string Command(GitSyncOptions options)
    {
        var command = new StringBuilder(options.SshCommand.Length > 0 ? options.SshCommand : "ssh");
        foreach (var key in KeyFiles(options))
        {
            command.Append(" -i ").Append(Quote(key));
        }
        command.Append(options.SshKnownHosts
            ? $" -o StrictHostKeyChecking=yes -o {Quote("UserKnownHostsFile=" + options.SshKnownHostsFile)}"
            // git-sync's StrictHostKeyChecking=no, without recording hosts in ~/.ssh/known_hosts.
            : " -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null");
        // Never wait for a passphrase or password on a terminal: fail, and say why.
        command.Append(" -o BatchMode=yes");
        return command.ToString();
    }

    /// <summary>The script <c>core.sshCommand</c> names: the command with libgit2's arguments, ssh's messages kept in <paramref name="messagesFile"/>.</summary>
    public static string Script(GitSyncOptions options, string messagesFile) =>
        $"""
        #!{Shell}
        # Written by Sidecar.GitSync from its --ssh-* flags at each sync; libgit2 runs it as core.sshCommand.
        {(SshNegotiationFilter.Command is { } filter ? filter + " | " : "")}{Command(options)} "$@" 2>{Quote(messagesFile)}

        """.ReplaceLineEndings("\n");

    /// <summary>Quotes a word for the shell: inside single quotes nothing is special but the quote itself.</summary>
    public static string Quote(string word) => "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>Checks, for an SSH <c>--repo</c>, what ssh will need; each message names the value and the fix.</summary>
    public static IEnumerable<string> Validate(GitSyncOptions options, string? pathVariable, string shell = Shell)
    {
        if (!IsSsh(options.Repo))
        {
            yield break;
        }
        foreach (var key in KeyFiles(options))
        {
            if (Unreadable(key) is { } why)
            {
                var given = options.SshKeyFiles.Count > 0 ? "--ssh-key-file" : "--ssh-key-file (the default)";
                yield return $"{given} '{key}' {why}: SSH repos need the private key there (a Kubernetes Secret mounted with defaultMode 0400), or give --ssh-key-file=PATH";
            }
        }
        if (options.SshKnownHosts && Unreadable(options.SshKnownHostsFile) is { } knownHostsWhy)
        {
            yield return $"--ssh-known-hosts-file '{options.SshKnownHostsFile}' {knownHostsWhy}: give a known_hosts file holding the server's host key "
                + "(ssh-keyscan HOST, checked against the server's fingerprint), or --ssh-known-hosts=false to skip host key checking";
        }
        var program = FirstWord(options.SshCommand.Length > 0 ? options.SshCommand : "ssh");
        // A command that starts with an assignment (VAR=value ssh ...) is left to the shell.
        if (program.Length > 0 && !program.Contains('=', StringComparison.Ordinal) && FindProgram(program, pathVariable) is null)
        {
            yield return program.Contains('/', StringComparison.Ordinal)
                ? $"the ssh client '{program}' (from ${CommandVariable}) does not exist: fix ${CommandVariable} or unset it"
                : $"no '{program}' client on PATH ({pathVariable}): SSH repos need OpenSSH's ssh in the image, e.g. apt-get install openssh-client (Debian, Ubuntu) or apk add openssh-client (Alpine)";
        }
        if (!File.Exists(shell))
        {
            yield return $"{shell} does not exist: SSH repos need a shell to run ssh, so use an image that has one (e.g. mcr.microsoft.com/dotnet/aspnet:10.0, not a chiseled image)";
        }
    }

    /// <summary>
    /// libgit2 reads <c>$GIT_SSH_COMMAND</c> and <c>$GIT_SSH</c> before <c>core.sshCommand</c>, from the process's own
    /// environment. Once the inherited command is in <see cref="GitSyncOptions.SshCommand"/>, remove both from it,
    /// so libgit2 runs the script that adds the flags.
    /// </summary>
    public static void TakeOverEnvironment(GitSyncOptions options)
    {
        if (IsSsh(options.Repo))
        {
            _ = unsetenv(CommandVariable);
            _ = unsetenv(ProgramVariable);
        }
    }

    /// <summary>
    /// The last lines ssh (or the remote git) wrote to stderr during the last connection, where the reason is; empty when
    /// nothing. Banners (lines of @) and debug lines are left out.
    /// </summary>
    public static string Messages(string messagesFile)
    {
        try
        {
            return string.Join("; ", File.ReadAllLines(messagesFile)
                .Select(line => line.Trim())
                .Where(line => line.Length > 0 && !line.StartsWith('@') && !line.StartsWith("debug", StringComparison.Ordinal))
                .TakeLast(2));
        }
        catch (IOException)
        {
            return "";
        }
    }

    /// <summary>Why ssh failed, in words that name the fix.</summary>
    public static string Explain(GitSyncOptions options, string repoForLogs, string messages, string libgit2Message)
    {
        var said = messages.Length > 0 ? messages : libgit2Message;
        string fix;
        if (messages.Contains("host key verification failed", StringComparison.OrdinalIgnoreCase)
            || messages.Contains("REMOTE HOST IDENTIFICATION HAS CHANGED", StringComparison.Ordinal))
        {
            fix = $"the server's host key is not in --ssh-known-hosts-file '{options.SshKnownHostsFile}', or differs from it: "
                + "add the server's key (ssh-keyscan -p PORT HOST, checked against its fingerprint), or check that --repo names the right server";
        }
        else if (messages.Contains("bad permissions", StringComparison.Ordinal))
        {
            fix = "ssh ignores private keys that others can read: make --ssh-key-file mode 0400 or 0600 (Kubernetes: defaultMode: 0400)";
        }
        else if (messages.Contains("Permission denied", StringComparison.Ordinal))
        {
            fix = $"the server refused the key(s) {string.Join(", ", KeyFiles(options).Select(k => $"'{k}'"))}: "
                + "add the public key to the server (a deploy key), or give the matching --ssh-key-file";
        }
        else if (messages.Length == 0 && libgit2Message.StartsWith("cannot run", StringComparison.Ordinal))
        {
            fix = $"the ssh script {ScriptName} in ROOT/.git could not be started: --root must not be on a noexec mount, and {Shell} must exist";
        }
        else
        {
            fix = "check the host, port and path in --repo, --ssh-key-file and --ssh-known-hosts-file";
        }
        return $"ssh to '{repoForLogs}' failed ({said}): {fix}";
    }

    private static string? Unreadable(string path)
    {
        if (!File.Exists(path))
        {
            return Directory.Exists(path) ? "is a folder, not a file" : "does not exist";
        }
        try
        {
            using var _ = File.OpenRead(path);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"cannot be read ({e.Message})";
        }
    }

    // The program of a shell command line: its first word, which may be quoted ('/opt/my ssh' args).
    private static string FirstWord(string command)
    {
        var text = command.TrimStart();
        if (text.Length > 0 && text[0] is '\'' or '"' && text.IndexOf(text[0], 1) is var close and > 0)
        {
            return text[1..close];
        }
        return text.Split([' ', '\t'], 2)[0];
    }

    private static string? FindProgram(string program, string? pathVariable)
    {
        if (program.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(program) ? program : null;
        }
        return (pathVariable ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, program))
            .FirstOrDefault(File.Exists);
    }

    // Environment.SetEnvironmentVariable changes .NET's own copy on Unix, not the C environment libgit2 reads.
    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int unsetenv(string name);
}
