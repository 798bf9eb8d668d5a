namespace Sidecar.Tests;

/// <summary>A folder under the system temp path, removed with everything in it when disposed.</summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder(string prefix = "sidecar-test")
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        if (!Directory.Exists(Path))
        {
            return;
        }
        // Snapshots may be read-only; make everything writable so it can be removed.
        // Links are not followed: a link to a folder (or a loop) must not lead the clean-up elsewhere.
        var everything = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint };
        foreach (var entry in new DirectoryInfo(Path).EnumerateFileSystemInfos("*", everything))
        {
            if (!OperatingSystem.IsWindows())
            {
                entry.UnixFileMode |= UnixFileMode.UserWrite | UnixFileMode.UserRead | UnixFileMode.UserExecute;
            }
        }
        Directory.Delete(Path, recursive: true);
    }
}
