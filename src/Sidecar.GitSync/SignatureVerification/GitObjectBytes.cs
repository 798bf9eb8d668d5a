using System.Runtime.InteropServices;
using Sidecar.GitSync.Git;

namespace Sidecar.GitSync.SignatureVerification;

/// <summary>
/// The raw bytes of one object of a repository's object store, read through libgit2's <c>git_odb_read</c>.
/// LibGit2Sharp 0.32 has no public raw read, and its <c>Commit.ExtractSignature</c> returns null text when compiled
/// ahead of time (its git_buf output is a class the AOT marshaller does not copy back), so the signature is cut from
/// the bytes here, as git's <c>parse_buffer_signed_by_header</c> does.
/// </summary>
internal static partial class GitObjectBytes
{
    // The libgit2 LibGit2Sharp.NativeBinaries 2.0.324 ships (libgit2-5853918.so), already loaded and initialised by LibGit2Sharp.
    private const string Library = "git2-5853918";

    public const int Commit = 1;
    public const int Tag = 4;

    /// <summary>The object's bytes and its type (1 commit, 4 tag); throws <see cref="SyncException"/> when it cannot be read.</summary>
    public static unsafe (byte[] Bytes, int Type) Read(string gitDirectory, string sha)
    {
        var id = Convert.FromHexString(sha);
        if (id.Length != 20)
        {
            throw new SyncException($"'{sha}' is not a SHA-1 object id");
        }
        Check(git_repository_open_bare(out var repository, gitDirectory), gitDirectory, sha);
        nint database = 0, found = 0;
        try
        {
            Check(git_repository_odb(out database, repository), gitDirectory, sha);
            fixed (byte* oid = id)
            {
                Check(git_odb_read(out found, database, oid), gitDirectory, sha);
            }
            var bytes = new ReadOnlySpan<byte>((void*)git_odb_object_data(found), checked((int)git_odb_object_size(found))).ToArray();
            return (bytes, git_odb_object_type(found));
        }
        finally
        {
            if (found != 0)
            {
                git_odb_object_free(found);
            }
            if (database != 0)
            {
                git_odb_free(database);
            }
            git_repository_free(repository);
        }
    }

    private static void Check(int result, string gitDirectory, string sha)
    {
        if (result < 0)
        {
            throw new SyncException($"object {sha} could not be read from {gitDirectory} (libgit2 error {result})");
        }
    }

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int git_repository_open_bare(out nint repository, string path);

    [LibraryImport(Library)]
    private static partial int git_repository_odb(out nint database, nint repository);

    [LibraryImport(Library)]
    private static unsafe partial int git_odb_read(out nint found, nint database, byte* id);

    [LibraryImport(Library)]
    private static partial nint git_odb_object_data(nint found);

    [LibraryImport(Library)]
    private static partial nuint git_odb_object_size(nint found);

    [LibraryImport(Library)]
    private static partial int git_odb_object_type(nint found);

    [LibraryImport(Library)]
    private static partial void git_odb_object_free(nint found);

    [LibraryImport(Library)]
    private static partial void git_odb_free(nint database);

    [LibraryImport(Library)]
    private static partial void git_repository_free(nint repository);
}

/// <summary>A signed git object split as git splits it: the signature, and the bytes it signs.</summary>
public static class SignedObject
{
    /// <summary>
    /// A commit: the <c>gpgsig</c> header's value (its continuation lines unindented) and the commit without it,
    /// or a null signature when there is none.
    /// </summary>
    public static (string? Signature, byte[] Signed) SplitCommit(ReadOnlySpan<byte> raw)
    {
        var signed = new List<byte>(raw.Length);
        var signature = new System.Text.StringBuilder();
        var found = false;
        var inHeaders = true;
        // The header whose continuation lines are being read: 1 gpgsig (kept), 2 gpgsig-sha256 (dropped), 0 none.
        var header = 0;
        while (!raw.IsEmpty)
        {
            var end = raw.IndexOf((byte)'\n');
            var line = end < 0 ? raw : raw[..(end + 1)];
            raw = raw[line.Length..];
            if (inHeaders && line.SequenceEqual("\n"u8))
            {
                inHeaders = false;
            }
            if (inHeaders && header != 0 && line.StartsWith(" "u8))
            {
                if (header == 1)
                {
                    signature.Append(System.Text.Encoding.UTF8.GetString(line[1..]));
                }
                continue;
            }
            header = 0;
            // gpgsig-sha256 is the signature of the object's SHA-256 form: never part of what is signed either.
            if (inHeaders && line.StartsWith("gpgsig "u8))
            {
                header = 1;
                found = true;
                signature.Append(System.Text.Encoding.UTF8.GetString(line["gpgsig "u8.Length..]));
                continue;
            }
            if (inHeaders && line.StartsWith("gpgsig-sha256 "u8))
            {
                header = 2;
                continue;
            }
            signed.AddRange(line);
        }
        return (found ? signature.ToString() : null, signed.ToArray());
    }

    /// <summary>A tag: the last signature block that starts a line, and the bytes before it; or a null signature.</summary>
    public static (string? Signature, byte[] Signed) SplitTag(ReadOnlySpan<byte> raw)
    {
        var start = -1;
        foreach (var armor in new[] { "-----BEGIN PGP SIGNATURE-----"u8.ToArray(), "-----BEGIN SSH SIGNATURE-----"u8.ToArray() })
        {
            var at = raw.LastIndexOf([(byte)'\n', .. armor]);
            if (at >= 0 && at + 1 > start)
            {
                start = at + 1;
            }
        }
        return start < 0 ? (null, raw.ToArray()) : (System.Text.Encoding.UTF8.GetString(raw[start..]), raw[..start].ToArray());
    }
}
