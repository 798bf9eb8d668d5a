using Sidecar.GitSync.CommandLine;

namespace Sidecar.GitSync.Sync;

/// <summary><c>--touch-file</c>: created or given a new modification time after each new publish.</summary>
public sealed partial class TouchFile(GitSyncOptions options, TimeProvider timeProvider, ILogger<TouchFile> logger)
{
    public void Touch()
    {
        if (options.TouchFile.Length == 0)
        {
            return;
        }
        var path = options.UnderRoot(options.TouchFile);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using (File.Open(path, FileMode.OpenOrCreate, FileAccess.Write))
            {
            }
            File.SetLastWriteTimeUtc(path, timeProvider.GetUtcNow().UtcDateTime);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogNotTouched(e, path);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not touch {Path}")]
    private partial void LogNotTouched(Exception exception, string path);
}
