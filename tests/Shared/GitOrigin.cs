using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Sidecar.DemoOrigin;

namespace Sidecar.Tests;

/// <summary>A real smart-HTTP git server on loopback (git http-backend behind Kestrel), with repositories to commit to.</summary>
public sealed class GitOrigin : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly TempFolder folder;

    private GitOrigin(WebApplication app, TempFolder folder, string baseUrl)
    {
        this.app = app;
        this.folder = folder;
        BaseUrl = baseUrl;
    }

    public string BaseUrl { get; }

    /// <summary>When set, every request must carry these credentials (HTTP Basic), else 401.</summary>
    public (string Username, string Password)? RequiredCredentials { get; set; }

    public int RefusedRequests { get; set; }

    /// <summary>
    /// When set, a 401 is sent as its head, then after this delay its body (<see cref="ChallengeBody"/>, framed by
    /// Content-Length): two TCP packets, as a server that flushes its headers first sends it.
    /// </summary>
    public TimeSpan? ChallengeBodyDelay { get; set; }

    /// <summary>The Content-Type of a delayed 401 body; null sends none.</summary>
    public string? ChallengeContentType { get; set; } = "text/plain";

    public const string ChallengeBody = "Authentication required\n";

    /// <param name="address">The address to listen on: loopback, or a host address containers can reach (a bridge's gateway).</param>
    public static async Task<GitOrigin> StartAsync(string address = "127.0.0.1")
    {
        var folder = new TempFolder("sidecar-origin");
        Directory.CreateDirectory(folder.Combine("repos"));
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls($"http://{address}:0");
        var app = builder.Build();
        GitOrigin? origin = null;
        // Basic auth in front of git http-backend, on when a test sets RequiredCredentials.
        app.Use(async (context, next) =>
        {
            if (origin?.RequiredCredentials is { } required)
            {
                var expected = "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{required.Username}:{required.Password}"));
                if (context.Request.Headers.Authorization.ToString() != expected)
                {
                    origin.RefusedRequests++;
                    context.Response.StatusCode = 401;
                    context.Response.Headers.WWWAuthenticate = "Basic realm=\"git\"";
                    if (origin.ChallengeBodyDelay is { } delay)
                    {
                        var body = System.Text.Encoding.ASCII.GetBytes(ChallengeBody);
                        context.Response.ContentLength = body.Length;
                        context.Response.ContentType = origin.ChallengeContentType;
                        await context.Response.StartAsync();
                        await context.Response.Body.FlushAsync();
                        await Task.Delay(delay);
                        await context.Response.Body.WriteAsync(body);
                    }
                    return;
                }
            }
            await next(context);
        });
        app.MapGitHttpBackend(folder.Combine("repos"));
        await app.StartAsync();
        origin = new GitOrigin(app, folder, app.Urls.First());
        return origin;
    }

    /// <summary>Creates an empty bare repository served at <c>/NAME.git</c>.</summary>
    public Task<OriginRepository> CreateRepositoryAsync(string name = "site") =>
        OriginRepository.CreateAsync(folder, name, _ => $"{BaseUrl}/{name}.git");

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
        folder.Dispose();
    }
}

/// <summary>A bare repository on the origin, and a work tree to build its commits in.</summary>
public sealed class OriginRepository(string bare, string workTree, string url)
{
    public string BarePath { get; } = bare;

    public string WorkTree { get; } = workTree;

    public string Url { get; } = url;

    /// <summary>Creates an empty bare repository at <c>FOLDER/repos/NAME.git</c>, its work tree at <c>FOLDER/work/NAME</c>.</summary>
    public static async Task<OriginRepository> CreateAsync(TempFolder folder, string name, Func<string, string> urlOfBarePath)
    {
        var bare = folder.Combine("repos", name + ".git");
        await DemoRepository.CreateBareAsync(bare);
        var workTree = folder.Combine("work", name);
        Directory.CreateDirectory(workTree);
        return new OriginRepository(bare, workTree, urlOfBarePath(bare));
    }

    /// <summary>Writes the files (a null content deletes one) and commits the whole work tree; returns the new SHA.</summary>
    public async Task<string> CommitAsync(string message, params (string Path, string? Content)[] files)
    {
        foreach (var (path, content) in files)
        {
            var full = System.IO.Path.Combine(WorkTree, path);
            if (content is null)
            {
                File.Delete(full);
                continue;
            }
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
            await File.WriteAllTextAsync(full, content);
        }
        return await DemoRepository.CommitFolderAsync(BarePath, WorkTree, message);
    }

    public Task<string> GitAsync(params string[] arguments) => GitCli.RunAsync(WorkTree, ["--git-dir=" + BarePath, .. arguments]);
}
