using Sidecar.StaticWeb.Files;
using Sidecar.Tests;

namespace Sidecar.StaticWeb.Tests;

/// <summary>Content hashes are remembered per file identity (device, inode, size, mtime), on real files.</summary>
[Trait("Category", "InProcess")]
public sealed class ContentHashETagsTests : IDisposable
{
    private readonly TempFolder folder = new("sidecar-etags");
    private readonly ContentHashETags etags = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public void AFileIsHashedOncePerIdentity()
    {
        var path = folder.Combine("a.txt");
        File.WriteAllText(path, "first");
        var mtime = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(path, mtime);
        var before = etags.For(path, FileIdentity.Of(path)!.Value, []);

        // Same inode, size and mtime: the remembered hash is used, the file is not read again.
        File.WriteAllText(path, "other");
        File.SetLastWriteTimeUtc(path, mtime);
        var sameIdentity = etags.For(path, FileIdentity.Of(path)!.Value, []);

        // A new mtime is a new identity: hashed again, from the new bytes.
        File.SetLastWriteTimeUtc(path, mtime.AddSeconds(1));
        var newIdentity = etags.For(path, FileIdentity.Of(path)!.Value, []);

        Assert.Equal(before, sameIdentity);
        Assert.NotEqual(before, newIdentity);
    }

    [Fact]
    public void EqualBytesGiveEqualStrongTagsWhateverTheIdentity()
    {
        var a = folder.Combine("a.txt");
        var b = folder.Combine("b.txt");
        File.WriteAllText(a, "same bytes");
        File.WriteAllText(b, "same bytes");
        File.SetLastWriteTimeUtc(b, DateTime.UtcNow.AddDays(-3));

        var tagA = etags.For(a, FileIdentity.Of(a)!.Value, []);
        var tagB = etags.For(b, FileIdentity.Of(b)!.Value, File.ReadAllBytes(b));

        Assert.NotEqual(FileIdentity.Of(a), FileIdentity.Of(b));
        Assert.Equal(tagA, tagB);
        Assert.Matches("^\"[A-Za-z0-9_-]{22}\"$", tagA);
    }

    [Fact]
    public void OnlyRegularFilesHaveAnIdentity()
    {
        File.WriteAllText(folder.Combine("file.txt"), "x");
        File.CreateSymbolicLink(folder.Combine("link.txt"), folder.Combine("file.txt"));

        Assert.Null(FileIdentity.Of(folder.Path));
        Assert.Null(FileIdentity.Of(folder.Combine("missing")));
        Assert.Equal(FileIdentity.Of(folder.Combine("file.txt")), FileIdentity.Of(folder.Combine("link.txt")));
        Assert.Equal(1, FileIdentity.Of(folder.Combine("file.txt"))!.Value.Size);
    }
}
