using System.Globalization;
using System.Runtime.InteropServices;

namespace Sidecar.GitSync.CommandLine;

/// <summary>
/// <c>--add-user</c>, as git-sync does it: when the running UID has no line in <c>/etc/passwd</c> (a Pod run with an
/// arbitrary <c>runAsUser</c>), append <c>git-sync:x:UID:GID::HOME:/sbin/nologin</c>, because ssh refuses to run for a
/// user it cannot look up ("No user exists for uid").
/// </summary>
public static partial class PasswdEntry
{
    public const string DefaultPath = "/etc/passwd";

    /// <summary>Adds the entry if missing; returns null, or an error naming the file and the fix.</summary>
    public static string? EnsureFor(uint uid, uint gid, string home, string path = DefaultPath)
    {
        try
        {
            var known = File.Exists(path) && File.ReadLines(path)
                .Select(line => line.Split(':'))
                .Any(fields => fields.Length > 2 && fields[2] == uid.ToString(CultureInfo.InvariantCulture));
            if (!known)
            {
                File.AppendAllText(path, $"git-sync:x:{uid}:{gid}::{home}:/sbin/nologin\n");
            }
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"--add-user could not add UID {uid} to {path} ({e.Message}): make the file writable for this user (git-sync's image makes it group-writable) or run without --add-user";
        }
    }

    /// <summary>For the running process: its UID and GID, and $HOME (else the working folder), as git-sync.</summary>
    public static string? EnsureForCurrentUser() =>
        EnsureFor(getuid(), getgid(), Environment.GetEnvironmentVariable("HOME") is { Length: > 0 } home ? home : Environment.CurrentDirectory);

    // .NET exposes the user name, not the numeric UID/GID an /etc/passwd line needs.
    [LibraryImport("libc")]
    private static partial uint getuid();

    [LibraryImport("libc")]
    private static partial uint getgid();
}
