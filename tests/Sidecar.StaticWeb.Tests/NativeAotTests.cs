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

    [Fact]
    public async Task WhatStartingUpAllocatedIsGivenBackOnceItListens()
    {
        using var site = NativeSite();
        // Each measured at the same moment after start; alternated, so a slow moment of the machine hits both.
        var released = new List<double>();
        var kept = new List<double>();
        for (var i = 0; i < 2; i++)
        {
            released.Add(await MeasureAsync(site, [], (server, _) => Task.FromResult(AnonymousMegabytes(server.Id)), oneCpu: false));
            kept.Add(await MeasureAsync(site, ["--StaticWeb:ReleaseStartupMemory=false"], (server, _) => Task.FromResult(AnonymousMegabytes(server.Id)), oneCpu: false));
        }
        // About 2 MB here; two starts of the same build differ by about 0.1 MB.
        Assert.True(released.Max() + 1 < kept.Min(), $"anonymous memory 3 s after start, MB: released {string.Join(", ", released)}; kept {string.Join(", ", kept)}");
    }

    // On two CPUs the runtime runs server GC with DATAS, where the executable's System.GC.DGen0GrowthPercent sizes generation 0;
    // on one (here the affinity; in a Pod a CPU limit of 1) workstation GC, where its System.GC.Gen0MaxBudget caps it.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GenerationZeroIsCollectedBeforeItGrowsUnderLoad(bool oneCpu)
    {
        using var site = NativeSite();
        // The same requests, with the executable's own GC settings and with the runtime's sizing (the environment overrides
        // what the executable embeds: 64 is DATAS's 100 %, 0 no cap).
        var capped = new List<double>();
        var runtimeDefault = new List<double>();
        for (var i = 0; i < 2; i++)
        {
            capped.Add(await MeasureAsync(site, [], PeakUnderLoadAsync, oneCpu));
            runtimeDefault.Add(await MeasureAsync(site, [], PeakUnderLoadAsync, oneCpu, ("DOTNET_GCDGen0GrowthPercent", "64"), ("DOTNET_GCGen0MaxBudget", "0")));
        }
        Assert.True(capped.Max() + 5 < runtimeDefault.Min(),
            $"peak resident MB under load{(oneCpu ? " on one CPU" : "")}: as published {string.Join(", ", capped)}; runtime's sizing {string.Join(", ", runtimeDefault)}");
    }

    private static TempFolder NativeSite()
    {
        var site = new TempFolder("sidecar-aot-memory");
        var revision = site.Combine(".worktrees", "rev1");
        Directory.CreateDirectory(revision);
        File.WriteAllText(Path.Combine(revision, "1k.txt"), new string('x', 1024));
        File.CreateSymbolicLink(site.Combine("current"), Path.Combine(".worktrees", "rev1"));
        return site;
    }

    // Starts the executable on the site, waits until it listens and 3 s more, measures, and stops it.
    private async Task<double> MeasureAsync(TempFolder site, string[] arguments, Func<Process, string, Task<double>> measure, bool oneCpu, params (string Name, string Value)[] environment)
    {
        // taskset (util-linux) execs the server on CPU 0 only, so the process is the server.
        var start = new ProcessStartInfo(oneCpu ? "taskset" : build.Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (oneCpu ? ["-c", "0", build.Binary] : Array.Empty<string>())
            .Concat(["--root", site.Combine("current"), "--urls", "http://127.0.0.1:0", "--contentRoot", build.Output]))
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        using var server = Process.Start(start)!;
        _ = server.StandardError.ReadToEndAsync();
        try
        {
            var address = await ListeningAddressAsync(server);
            await Task.Delay(TimeSpan.FromSeconds(3));
            return await measure(server, address);
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            server.WaitForExit();
        }
    }

    // 40,000 requests for a 1 KB file from 16 connections; the server's VmHWM after them.
    private static async Task<double> PeakUnderLoadAsync(Process server, string address)
    {
        using var client = new HttpClient { BaseAddress = new Uri(address) };
        await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            for (var i = 0; i < 2500; i++)
            {
                using var response = await client.GetAsync("/1k.txt", HttpCompletionOption.ResponseHeadersRead);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                await response.Content.CopyToAsync(Stream.Null);
            }
        }));
        return StatusMegabytes(server.Id, "VmHWM:");
    }

    private static double AnonymousMegabytes(int pid) => Megabytes(File.ReadAllLines($"/proc/{pid}/smaps_rollup"), "Anonymous:");

    private static double StatusMegabytes(int pid, string field) => Megabytes(File.ReadAllLines($"/proc/{pid}/status"), field);

    private static double Megabytes(string[] lines, string field) =>
        long.Parse(lines.Single(line => line.StartsWith(field, StringComparison.Ordinal))[field.Length..].Trim().Split(' ')[0]) / 1024.0;

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
