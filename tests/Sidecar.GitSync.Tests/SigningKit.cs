using System.Diagnostics;
using Sidecar.Tests;

namespace Sidecar.GitSync.Tests;

/// <summary>
/// Real signing tools in a temp folder: SSH keys from ssh-keygen, OpenPGP keys from gpg (with their own GNUPGHOME),
/// the trust files the sidecar and git read, and a git CLI that signs and verifies with them.
/// </summary>
public sealed class SigningKit : IDisposable
{
    private readonly TempFolder folder = new("sidecar-signing");
    private readonly List<string> gnupgHomes = [];

    public SigningKit()
    {
        SigningGnupgHome = NewGnupgHome("sign");
        VerifyingGnupgHome = NewGnupgHome("verify");
    }

    /// <summary>Where gpg keeps the secret keys that sign.</summary>
    public string SigningGnupgHome { get; }

    /// <summary>The keyring git verifies OpenPGP signatures with: the same public keys as <see cref="OpenPgpKeysFolder"/>.</summary>
    public string VerifyingGnupgHome { get; }

    /// <summary>The folder of armored public keys given to <c>--openpgp-keys</c>.</summary>
    public string OpenPgpKeysFolder => Directory.CreateDirectory(folder.Combine("openpgp-keys")).FullName;

    public string Combine(string name) => folder.Combine(name);

    /// <summary>Makes an SSH key pair (ed25519, ecdsa or rsa) with no passphrase; returns the private key's path.</summary>
    public async Task<string> SshKeyAsync(string type, string name)
    {
        var path = folder.Combine(name);
        string[] size = type switch { "ecdsa" => ["-b", "256"], "rsa" => ["-b", "2048"], _ => [] };
        await RunAsync("ssh-keygen", folder.Path, null, ["-q", "-t", type, .. size, "-N", "", "-C", name, "-f", path]);
        return path;
    }

    /// <summary>The <c>KEYTYPE BASE64</c> part of the key's public half, for an allowed signers line.</summary>
    public static string PublicKey(string privateKey) =>
        string.Join(' ', File.ReadAllText(privateKey + ".pub").Trim().Split(' ').Take(2));

    /// <summary>The key's fingerprint as <c>ssh-keygen -l</c> prints it.</summary>
    public async Task<string> SshFingerprintAsync(string privateKey) =>
        (await RunAsync("ssh-keygen", folder.Path, null, ["-l", "-f", privateKey + ".pub"])).Split(' ')[1];

    /// <summary>Commits the origin's work tree into its bare repository, SSH-signed with <paramref name="sshKey"/>; returns the SHA.</summary>
    public async Task<string> SignedCommitAsync(OriginRepository origin, string sshKey, string message, string path, string content)
    {
        await File.WriteAllTextAsync(Path.Combine(origin.WorkTree, path), content);
        string[] at = ["--git-dir=" + origin.BarePath, "--work-tree=" + origin.WorkTree];
        await GitAsync(origin.WorkTree, [.. at, "add", "--all", "."]);
        await GitAsync(origin.WorkTree, [.. at, "-c", "gpg.format=ssh", "-c", "user.signingkey=" + sshKey, "commit", "-q", "-S", "-m", message]);
        return (await GitAsync(origin.WorkTree, "--git-dir=" + origin.BarePath, "rev-parse", "HEAD")).Trim();
    }

    /// <summary>Writes an allowed signers file of the given lines; returns its path.</summary>
    public string AllowedSigners(string name, params string[] lines)
    {
        var path = folder.Combine(name);
        File.WriteAllLines(path, lines);
        return path;
    }

    /// <summary>Makes an OpenPGP signing key (rsa2048 or ed25519); returns its fingerprint.</summary>
    public async Task<string> OpenPgpKeyAsync(string algorithm, string email)
    {
        await Gpg(SigningGnupgHome, "--passphrase", "", "--pinentry-mode", "loopback", "--quick-gen-key", $"Signer <{email}>", algorithm, "sign", "never");
        var listing = await Gpg(SigningGnupgHome, "--with-colons", "--list-keys", email);
        return listing.Split('\n').First(l => l.StartsWith("fpr:", StringComparison.Ordinal)).Split(':')[9];
    }

    /// <summary>Trusts the key: its armored export goes into <see cref="OpenPgpKeysFolder"/> and git's keyring.</summary>
    public async Task TrustOpenPgpKeyAsync(string fingerprint)
    {
        var armored = await Gpg(SigningGnupgHome, "--armor", "--export", fingerprint);
        var file = Path.Combine(OpenPgpKeysFolder, fingerprint + ".asc");
        await File.WriteAllTextAsync(file, armored);
        await Gpg(VerifyingGnupgHome, "--import", file);
    }

    private Task<string> Gpg(string home, params string[] arguments) =>
        RunAsync("gpg", folder.Path, new() { ["GNUPGHOME"] = home }, ["--batch", .. arguments]);

    private string NewGnupgHome(string name)
    {
        var home = folder.Combine("gnupg-" + name);
        Directory.CreateDirectory(home);
        File.SetUnixFileMode(home, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        gnupgHomes.Add(home);
        return home;
    }

    /// <summary>Runs git in <paramref name="repository"/> with the signing keyring; throws when git fails.</summary>
    public Task<string> GitAsync(string repository, params string[] arguments) =>
        RunAsync("git", repository, new() { ["GNUPGHOME"] = SigningGnupgHome }, ["-c", "user.name=Signer", "-c", "user.email=signer@example.com", .. arguments]);

    /// <summary>git's own verdict: the exit code of <c>git verify-commit</c>/<c>verify-tag</c> with the same trust files.</summary>
    public async Task<(int ExitCode, string Output)> GitVerifyAsync(string repository, string allowedSigners, string command, string revision)
    {
        var result = await TryRunAsync("git", repository, new() { ["GNUPGHOME"] = VerifyingGnupgHome },
            ["-c", "gpg.ssh.allowedSignersFile=" + allowedSigners, command, "-v", revision]);
        return (result.ExitCode, result.Output + result.Errors);
    }

    /// <summary>A new work repository with one file, for signing commits into.</summary>
    public async Task<string> NewRepositoryAsync(string name)
    {
        var path = folder.Combine("repositories", name);
        Directory.CreateDirectory(path);
        await GitAsync(path, "init", "-q", "-b", "main", ".");
        await File.WriteAllTextAsync(Path.Combine(path, "index.html"), "hello");
        await GitAsync(path, "add", ".");
        return path;
    }

    /// <summary>Commits in <paramref name="repository"/>, SSH-signed with <paramref name="sshKey"/>, OpenPGP-signed with <paramref name="openPgpKey"/>, or unsigned.</summary>
    public async Task<string> CommitAsync(string repository, string message, string? sshKey = null, string? openPgpKey = null)
    {
        string[] signing = sshKey is not null ? ["-c", "gpg.format=ssh", "-c", "user.signingkey=" + sshKey]
            : openPgpKey is not null ? ["-c", "gpg.format=openpgp", "-c", "user.signingkey=" + openPgpKey]
            : ["-c", "commit.gpgsign=false"];
        await GitAsync(repository, [.. signing, "commit", "-q", "--allow-empty", .. (sshKey ?? openPgpKey) is null ? Array.Empty<string>() : ["-S"], "-m", message]);
        return (await GitAsync(repository, "rev-parse", "HEAD")).Trim();
    }

    /// <summary>Writes a commit object as given (with git hash-object, so it may be one no git command would make); returns its id.</summary>
    public async Task<string> WriteCommitObjectAsync(string repository, string raw)
    {
        var file = folder.Combine($"object-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(file, raw);
        return (await GitAsync(repository, "hash-object", "-t", "commit", "-w", file)).Trim();
    }

    /// <summary>Signs <paramref name="data"/> with ssh-keygen in the given namespace; returns the armored signature.</summary>
    public async Task<string> SshSignAsync(string key, string @namespace, string data)
    {
        var file = folder.Combine($"payload-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(file, data);
        await RunAsync("ssh-keygen", folder.Path, null, ["-Y", "sign", "-q", "-n", @namespace, "-f", key, file]);
        return await File.ReadAllTextAsync(file + ".sig");
    }

    private static async Task<string> RunAsync(string program, string directory, Dictionary<string, string>? environment, string[] arguments)
    {
        var (exitCode, output, errors) = await TryRunAsync(program, directory, environment, arguments);
        return exitCode == 0 ? output : throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} exited {exitCode}: {errors}");
    }

    private static async Task<(int ExitCode, string Output, string Errors)> TryRunAsync(string program, string directory, Dictionary<string, string>? environment, string[] arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in environment ?? [])
        {
            start.Environment[name] = value;
        }
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await errors);
    }

    public void Dispose()
    {
        // gpg starts an agent per GNUPGHOME; stop each one this kit started.
        foreach (var home in gnupgHomes)
        {
            var stop = new ProcessStartInfo("gpgconf", ["--kill", "all"]) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
            stop.Environment["GNUPGHOME"] = home;
            using var process = Process.Start(stop);
            process?.WaitForExit(10_000);
        }
        folder.Dispose();
    }
}
