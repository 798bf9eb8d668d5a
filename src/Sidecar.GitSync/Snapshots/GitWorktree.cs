using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using LibGit2Sharp;

namespace Sidecar.GitSync.Snapshots;

/// <summary>One path of a snapshot's index: its blob (or gitlink commit), mode, and whether the snapshot left it out.</summary>
public sealed record WorktreeIndexEntry(string Path, int Mode, ObjectId Id, bool LeftOut);

/// <summary>
/// Makes a snapshot folder a linked worktree of <c>ROOT/.git</c> at its commit, the layout <c>git worktree add</c>
/// writes (and git-sync's snapshots have): <c>ROOT/.git/worktrees/SHA/{HEAD,commondir,gitdir,index}</c> and a
/// <c>.git</c> file in the snapshot naming that folder. So <c>git rev-parse HEAD</c>, <c>git log</c>,
/// <c>git archive HEAD</c> and <c>git status</c> work inside, and <c>git worktree list</c> lists every snapshot.
/// The <c>.git</c> file names its folder by a relative path, so the snapshot still resolves when the volume is
/// mounted at another path in another container.
/// </summary>
public static class GitWorktree
{
    public const string AdminFolder = "worktrees";

    /// <summary>The admin folder of snapshot <paramref name="sha"/>: <c>ROOT/.git/worktrees/SHA</c>.</summary>
    public static string AdminDirectory(string gitDirectory, string sha) => Path.Combine(gitDirectory, AdminFolder, sha);

    /// <summary>The <c>.git</c> file of a snapshot in <c>ROOT/.worktrees/SHA</c>: two folders up, then into the store.</summary>
    public static string GitFileContent(string sha) => $"gitdir: ../../.git/{AdminFolder}/{sha}\n";

    /// <summary>
    /// Writes the admin folder for the snapshot that will be at <paramref name="finalFolder"/> and the <c>.git</c> file
    /// in <paramref name="writtenFolder"/> (where its files are now; it is renamed to <paramref name="finalFolder"/> next).
    /// </summary>
    public static void Register(string gitDirectory, string sha, string finalFolder, string writtenFolder, IReadOnlyList<WorktreeIndexEntry> entries)
    {
        var admin = AdminDirectory(gitDirectory, sha);
        if (Directory.Exists(admin))
        {
            Directory.Delete(admin, recursive: true);
        }
        Directory.CreateDirectory(admin);
        File.WriteAllText(Path.Combine(admin, "commondir"), "../..\n");
        File.WriteAllText(Path.Combine(admin, "HEAD"), sha + "\n");
        WriteIndex(Path.Combine(admin, "index"), writtenFolder, entries);
        // Last: git worktree prune keeps an admin folder whose gitdir names a .git that exists.
        File.WriteAllText(Path.Combine(admin, "gitdir"), Path.Combine(finalFolder, ".git") + "\n");
        var gitFile = Path.Combine(writtenFolder, ".git");
        File.WriteAllText(gitFile, GitFileContent(sha));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(gitFile, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }
    }

    /// <summary>
    /// True when <paramref name="folder"/> is the sidecar's worktree of <paramref name="sha"/>: its <c>.git</c> file names
    /// the admin folder, whose HEAD is that commit and whose gitdir names this folder. git-sync checks the same
    /// (<c>git rev-parse HEAD</c> in the worktree); neither re-reads the files.
    /// </summary>
    public static bool IsIntact(string gitDirectory, string sha, string folder)
    {
        try
        {
            var info = new DirectoryInfo(folder);
            if (!info.Exists || info.Attributes.HasFlag(FileAttributes.ReparsePoint))
            {
                return false;
            }
            var gitFile = Path.Combine(folder, ".git");
            var admin = AdminDirectory(gitDirectory, sha);
            return File.Exists(gitFile) && File.ReadAllText(gitFile) == GitFileContent(sha)
                && File.Exists(Path.Combine(admin, "HEAD")) && File.ReadAllText(Path.Combine(admin, "HEAD")).Trim() == sha
                && File.Exists(Path.Combine(admin, "index"))
                && File.Exists(Path.Combine(admin, "gitdir")) && File.ReadAllText(Path.Combine(admin, "gitdir")).Trim() == Path.Combine(folder, ".git");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// As <c>git worktree prune</c>: removes each admin folder whose worktree is gone (its gitdir names no file, or a
    /// <c>.git</c> that does not point back). Returns how many were removed.
    /// </summary>
    public static int Prune(string gitDirectory)
    {
        var admins = Path.Combine(gitDirectory, AdminFolder);
        if (!Directory.Exists(admins))
        {
            return 0;
        }
        var removed = 0;
        foreach (var admin in Directory.EnumerateDirectories(admins))
        {
            var sha = Path.GetFileName(admin);
            var gitdir = Path.Combine(admin, "gitdir");
            var gitFile = File.Exists(gitdir) ? File.ReadAllText(gitdir).Trim() : "";
            if (gitFile.Length > 0 && File.Exists(gitFile) && File.ReadAllText(gitFile) == GitFileContent(sha))
            {
                continue;
            }
            Directory.Delete(admin, recursive: true);
            removed++;
        }
        if (!Directory.EnumerateFileSystemEntries(admins).Any())
        {
            Directory.Delete(admins);
        }
        return removed;
    }

    /// <summary>
    /// Writes a git index (format 2, or 3 when an entry is left out) as a checkout of the commit would: every path of its
    /// tree, sorted, with the size and modification time of the file written. A path the snapshot left out (a
    /// <c>.git*</c> entry, one outside the sparse patterns, a refused symlink) is marked skip-worktree, as git's sparse
    /// checkout marks it, so <c>git status</c> reports it neither deleted nor changed. Fields .NET does not expose
    /// (inode, device, owner, change time) are zero: git then compares those files by content once and refreshes the
    /// index where it may write it.
    /// </summary>
    public static void WriteIndex(string indexPath, string folder, IReadOnlyList<WorktreeIndexEntry> entries)
    {
        var sorted = entries.Select(e => (Entry: e, Name: Encoding.UTF8.GetBytes(e.Path)))
            .OrderBy(e => e.Name, ByteOrder.Instance).ToList();
        var extended = sorted.Any(e => e.Entry.LeftOut);
        using var buffer = new MemoryStream();
        var word = new byte[4];
        void Write32(uint value)
        {
            BinaryPrimitives.WriteUInt32BigEndian(word, value);
            buffer.Write(word);
        }
        void Write16(ushort value)
        {
            BinaryPrimitives.WriteUInt16BigEndian(word, value);
            buffer.Write(word, 0, 2);
        }
        var id = new byte[20];
        buffer.Write("DIRC"u8);
        Write32(extended ? 3u : 2u);
        Write32((uint)sorted.Count);
        foreach (var (entry, name) in sorted)
        {
            var start = buffer.Position;
            uint seconds = 0, nanoseconds = 0, size = 0;
            if (!entry.LeftOut && entry.Mode != GitLinkMode)
            {
                var file = new FileInfo(Path.Combine(folder, entry.Path));
                if (file.Exists || file.LinkTarget is not null)
                {
                    var written = file.LastWriteTimeUtc - DateTime.UnixEpoch;
                    seconds = (uint)(written.Ticks / TimeSpan.TicksPerSecond);
                    nanoseconds = (uint)(written.Ticks % TimeSpan.TicksPerSecond * 100);
                    size = file.LinkTarget is { } target ? (uint)Encoding.UTF8.GetByteCount(target) : (uint)file.Length;
                }
            }
            Write32(0); // ctime
            Write32(0);
            Write32(seconds);
            Write32(nanoseconds);
            Write32(0); // dev
            Write32(0); // ino
            Write32((uint)entry.Mode);
            Write32(0); // uid
            Write32(0); // gid
            Write32(size);
            Convert.FromHexString(entry.Id.Sha, id, out _, out _);
            buffer.Write(id);
            var flags = (ushort)Math.Min(name.Length, 0xFFF);
            if (entry.LeftOut)
            {
                Write16((ushort)(flags | 0x4000)); // extended
                Write16(0x4000); // skip-worktree
            }
            else
            {
                Write16(flags);
            }
            buffer.Write(name);
            // One to eight NULs, so the entry is a multiple of eight bytes long.
            var padding = 8 - (int)((buffer.Position - start) % 8);
            buffer.Write(new byte[padding]);
        }
        buffer.Write(SHA1.HashData(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)));
        var temporary = indexPath + ".lock";
        File.WriteAllBytes(temporary, buffer.ToArray());
        File.Move(temporary, indexPath, overwrite: true);
    }

    public const int GitLinkMode = 0xE000; // 160000

    /// <summary>The index mode git records for a tree entry: regular files are 100644 or 100755.</summary>
    public static int IndexMode(Mode mode) => mode switch
    {
        Mode.ExecutableFile => 0x81ED, // 100755
        Mode.SymbolicLink => 0xA000, // 120000
        Mode.GitLink => GitLinkMode,
        _ => 0x81A4, // 100644
    };

    // git sorts index entries by the bytes of their paths.
    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
