using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using Sidecar.StaticWeb.Http;
using Sidecar.Tests;

namespace Sidecar.StaticWeb.Tests;

/// <summary>
/// The server as it is deployed: <c>dotnet publish</c> compiles it ahead of time (Native AOT) into one executable,
/// with no trim or AOT warnings. The rest of the suite runs the JIT build; this runs the published executable
/// through what the two can differ in: options binding, Kestrel's limits, the file pipeline, health and shutdown.
/// </summary>
[Trait("Category", "Aot")]
public sealed class NativeAotTests(StaticWebAotBuild build) : IClassFixture<StaticWebAotBuild>
{
    private const int SigTerm = 15;

    [Fact]
    public void ThePublishIsOneNativeExecutableWithoutWarnings()
    {
        Assert.True(File.Exists(build.Binary), build.Log);
        Assert.Equal(0, build.ExitCode);
        Assert.DoesNotContain("warning", build.Log, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(Directory.GetFiles(build.Output, "*.dll"));
        Assert.Empty(Directory.GetFiles(build.Output, "*.runtimeconfig.json"));
        Assert.Empty(Directory.GetFiles(build.Output, "*.dbg"));
    }

    [Fact]
    public async Task ItServesARevisionAndStopsCleanly()
    {
        using var site = new TempFolder("sidecar-aot-site");
        var revision = site.Combine(".worktrees", "rev1");
        Directory.CreateDirectory(Path.Combine(revision, "docs"));
        await File.WriteAllTextAsync(Path.Combine(revision, "index.html"), "<h1>native</h1>");
        await File.WriteAllTextAsync(Path.Combine(revision, "docs", "app.css"), string.Concat(Enumerable.Repeat("body { color: red; }\n", 100)));
        File.CreateSymbolicLink(site.Combine("current"), Path.Combine(".worktrees", "rev1"));

        using var server = Process.Start(new ProcessStartInfo(build.Binary)
        {
            // Settings from the command line reach the options through the generated binder.
            ArgumentList = { "--root", site.Combine("current"), "--urls", "http://127.0.0.1:0", "--contentRoot", build.Output,
                "--StaticWeb:ContentTypes:.x=text/x-native", "--StaticWeb:MaxRequestHeadersBytes=2048" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        var errors = server.StandardError.ReadToEndAsync();
        try
        {
            var address = await ListeningAddressAsync(server);
            using var client = new HttpClient { BaseAddress = new Uri(address) };

            using var page = await client.GetAsync("/");
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Equal("<h1>native</h1>", await page.Content.ReadAsStringAsync());
            Assert.Equal("rev1", Assert.Single(page.Headers.GetValues(StaticSiteHandler.RevisionHeader)));
            Assert.Equal("nosniff", Assert.Single(page.Headers.GetValues("X-Content-Type-Options")));

            using var compressed = new HttpRequestMessage(HttpMethod.Get, "/docs/app.css") { Headers = { { "Accept-Encoding", "br" } } };
            using var css = await client.SendAsync(compressed);
            Assert.Equal("br", Assert.Single(css.Content.Headers.ContentEncoding));

            using var conditional = new HttpRequestMessage(HttpMethod.Get, "/") { Headers = { IfNoneMatch = { page.Headers.ETag! } } };
            Assert.Equal(HttpStatusCode.NotModified, (await client.SendAsync(conditional)).StatusCode);

            using var big = new HttpRequestMessage(HttpMethod.Get, "/") { Headers = { { "Cookie", new string('c', 3000) } } };
            Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, (await client.SendAsync(big)).StatusCode);

            Assert.Equal("Healthy", await client.GetStringAsync("/health"));

            Assert.Equal(0, kill(server.Id, SigTerm));
            Assert.True(server.WaitForExit(TimeSpan.FromSeconds(20)), "the server did not stop on SIGTERM");
            Assert.True(server.ExitCode == 0, await errors);
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill(entireProcessTree: true);
                server.WaitForExit();
            }
        }
    }

    // Kestrel logs the address it bound: port 0 is given, so the port is only known from its log.
    private static async Task<string> ListeningAddressAsync(Process server)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        const string Marker = "Now listening on: ";
        while (await server.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.Contains(Marker))
            {
                // Stdout is drained from here on, so the server never blocks on a full pipe.
                _ = server.StandardOutput.ReadToEndAsync();
                return line[(line.IndexOf(Marker) + Marker.Length)..].Trim();
            }
        }
        throw new InvalidOperationException("the server exited before it listened");
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}

/// <summary>Publishes Sidecar.StaticWeb once for <see cref="NativeAotTests"/>, as its container image is built.</summary>
public sealed class StaticWebAotBuild() : AotPublish("Sidecar.StaticWeb");
