using System.Diagnostics;
using System.Text;

namespace Sidecar.DemoOrigin;

/// <summary>
/// Serves the git smart-HTTP protocol by running <c>git http-backend</c> as a CGI program, as
/// Apache or nginx would. Fetches and pushes both work; it is the demo origin and the test server.
/// </summary>
public sealed class GitHttpBackend(string projectRoot, ILogger<GitHttpBackend> logger)
{
    public string ProjectRoot { get; } = Path.GetFullPath(projectRoot);

    /// <summary>Runs one request through <c>git http-backend</c>; <paramref name="pathInfo"/> is the path below the mount point.</summary>
    public async Task HandleAsync(HttpContext context, string pathInfo)
    {
        var request = context.Request;
        var start = new ProcessStartInfo("git", "http-backend")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var env = start.Environment;
        env["GIT_PROJECT_ROOT"] = ProjectRoot;
        env["GIT_HTTP_EXPORT_ALL"] = "1";
        env["GATEWAY_INTERFACE"] = "CGI/1.1";
        env["SERVER_PROTOCOL"] = request.Protocol;
        env["REQUEST_METHOD"] = request.Method;
        env["PATH_INFO"] = "/" + pathInfo.TrimStart('/');
        env["QUERY_STRING"] = request.QueryString.HasValue ? request.QueryString.Value![1..] : "";
        env["REMOTE_ADDR"] = context.Connection.RemoteIpAddress?.ToString() ?? "127.0.0.1";
        env["CONTENT_TYPE"] = request.ContentType ?? "";
        if (request.ContentLength is { } length)
        {
            env["CONTENT_LENGTH"] = length.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        if (request.Headers.ContentEncoding.Count > 0)
        {
            env["HTTP_CONTENT_ENCODING"] = request.Headers.ContentEncoding.ToString();
        }
        if (request.Headers.TryGetValue("Git-Protocol", out var gitProtocol))
        {
            env["GIT_PROTOCOL"] = gitProtocol.ToString();
        }

        using var process = Process.Start(start)
            ?? throw new InvalidOperationException("could not start 'git http-backend': is git installed and on PATH?");
        var aborted = context.RequestAborted;

        var feedInput = Task.Run(async () =>
        {
            try
            {
                await request.Body.CopyToAsync(process.StandardInput.BaseStream, aborted);
            }
            finally
            {
                process.StandardInput.Close();
            }
        }, aborted);
        var drainErrors = process.StandardError.ReadToEndAsync(aborted);

        var output = process.StandardOutput.BaseStream;
        var (headers, rest) = await ReadCgiHeadersAsync(output, aborted);
        var response = context.Response;
        foreach (var (name, value) in headers)
        {
            if (name.Equals("Status", StringComparison.OrdinalIgnoreCase))
            {
                response.StatusCode = int.Parse(value.AsSpan(0, 3), System.Globalization.CultureInfo.InvariantCulture);
            }
            else
            {
                response.Headers.Append(name, value);
            }
        }
        await response.Body.WriteAsync(rest, aborted);
        await output.CopyToAsync(response.Body, aborted);

        await feedInput;
        await process.WaitForExitAsync(aborted);
        var errors = await drainErrors;
        if (errors.Length > 0)
        {
            logger.LogWarning("git http-backend {Method} {Path}: {Errors}", request.Method, pathInfo, errors.Trim());
        }
    }

    // CGI output is a header block ended by an empty line, then the body.
    private static async Task<(List<(string Name, string Value)> Headers, ReadOnlyMemory<byte> Body)> ReadCgiHeadersAsync(
        Stream output, CancellationToken cancellationToken)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[8192];
        while (true)
        {
            var read = await output.ReadAsync(chunk, cancellationToken);
            if (read == 0)
            {
                break;
            }
            buffer.Write(chunk, 0, read);
            var (end, separatorLength) = FindHeaderEnd(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
            if (end >= 0)
            {
                var all = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
                return (ParseHeaders(Encoding.ASCII.GetString(all.Span[..end])), all[(end + separatorLength)..]);
            }
        }
        throw new InvalidOperationException("git http-backend ended without a complete CGI header block");
    }

    private static (int Index, int Length) FindHeaderEnd(ReadOnlySpan<byte> data)
    {
        var crlf = data.IndexOf("\r\n\r\n"u8);
        var lf = data.IndexOf("\n\n"u8);
        if (crlf >= 0 && (lf < 0 || crlf < lf))
        {
            return (crlf, 4);
        }
        return lf >= 0 ? (lf, 2) : (-1, 0);
    }

    private static List<(string, string)> ParseHeaders(string block)
    {
        var headers = new List<(string, string)>();
        foreach (var line in block.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = line.IndexOf(':');
            if (colon > 0)
            {
                headers.Add((line[..colon].Trim(), line[(colon + 1)..].Trim()));
            }
        }
        return headers;
    }
}
