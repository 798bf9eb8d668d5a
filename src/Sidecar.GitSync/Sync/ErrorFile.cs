using System.Text.Json;
using System.Text.Json.Serialization;
using Sidecar.GitSync.CommandLine;
using Sidecar.GitSync.Git;

namespace Sidecar.GitSync.Sync;

/// <summary><c>--error-file</c>: the last error as JSON, replaced atomically; removed after a good sync.</summary>
public sealed partial class ErrorFile(GitSyncOptions options, TimeProvider timeProvider, ILogger<ErrorFile> logger)
{
    public string Path => options.UnderRoot(options.ErrorFile);

    public void Write(string error)
    {
        if (options.ErrorFile.Length == 0)
        {
            return;
        }
        var report = new ErrorReport(error, timeProvider.GetUtcNow(), RepositoryUrl.ForLogs(options.Repo), options.Ref, "error syncing repo", error);
        AtomicFile.Write(Path, JsonSerializer.SerializeToUtf8Bytes(report, ErrorReportJson.Readable.ErrorReport), logger);
    }

    public void Remove()
    {
        if (options.ErrorFile.Length == 0)
        {
            return;
        }
        try
        {
            File.Delete(Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogNotRemoved(e, Path);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not remove the error file {Path}")]
    private partial void LogNotRemoved(Exception exception, string path);
}

/// <summary>
/// The error file: this sidecar's fields, and git-sync's <c>Msg</c> and <c>Err</c> so tools that read its file keep
/// working. The error names the fix and carries git's own phrase where git has one (e.g. "couldn't find remote ref").
/// </summary>
public sealed record ErrorReport(
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("time")] DateTimeOffset Time,
    [property: JsonPropertyName("repo")] string Repo,
    [property: JsonPropertyName("ref")] string Ref,
    [property: JsonPropertyName("Msg")] string Msg,
    [property: JsonPropertyName("Err")] string Err);

[JsonSerializable(typeof(ErrorReport))]
internal sealed partial class ErrorReportJson : JsonSerializerContext
{
    // The file is read by people and scripts, not browsers: quotes stay quotes.
    public static ErrorReportJson Readable { get; } = new(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}

/// <summary>Writes a file under a temporary name in the same folder and renames it into place.</summary>
public static partial class AtomicFile
{
    public static void Write(string path, byte[] content, ILogger logger)
    {
        try
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
            var temporary = path + ".tmp-" + Guid.NewGuid().ToString("N");
            File.WriteAllBytes(temporary, content);
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogNotWritten(logger, e, path);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not write {Path}")]
    private static partial void LogNotWritten(ILogger logger, Exception exception, string path);
}
