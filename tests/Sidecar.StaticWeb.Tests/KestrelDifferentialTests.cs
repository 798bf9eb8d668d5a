using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Sidecar.StaticWeb.Tests;

/// <summary>
/// Edge-case and malformed requests, sent over raw sockets to StaticWeb and to a plain Kestrel app
/// with the same limits: StaticWeb must answer each with the statuses Kestrel gives and leave the
/// connection closed or open as Kestrel does, so none of Kestrel's request validation is lost.
/// </summary>
[Trait("Category", "InProcess")]
public sealed partial class KestrelDifferentialTests : IAsyncLifetime
{
    private const int LineLimit = 256;
    private const int HeadersLimit = 1024;
    private const int HeadersTimeoutSeconds = 2;
    private const string Probe = "GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n";

    private readonly SiteFixture site = new(
        $"--StaticWeb:MaxRequestLineBytes={LineLimit}",
        $"--StaticWeb:MaxRequestHeadersBytes={HeadersLimit}",
        $"--StaticWeb:RequestHeadersTimeoutSeconds={HeadersTimeoutSeconds}");

    private WebApplication? plain;

    public async Task InitializeAsync()
    {
        site.WriteRevision("rev1", ("index.html", "<h1>site</h1>"));
        site.Publish("rev1");
        await site.StartAsync();

        // Kestrel as an app gets it without StaticWeb: the limits StaticWeb sets, 200 for every request that reaches it.
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestLineSize = LineLimit;
            kestrel.Limits.MaxRequestHeadersTotalSize = HeadersLimit;
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(HeadersTimeoutSeconds);
            kestrel.Limits.MaxRequestBodySize = 64 * 1024;
        });
        plain = builder.Build();
        plain.Run(context =>
        {
            context.Response.ContentLength = 2;
            return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : context.Response.WriteAsync("ok");
        });
        await plain.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (plain is not null)
        {
            await plain.StopAsync();
            await plain.DisposeAsync();
        }
        await site.DisposeAsync();
    }

    /// <summary>One exchange: the bytes sent (in pieces, with a pause between them) and how long a quiet connection is waited on.</summary>
    public sealed record RawCase(string Name, string[] Pieces, int PauseMs = 0, int QuietMs = 1000);

    public static IReadOnlyList<RawCase> Corpus()
    {
        var cases = new List<RawCase>();
        void Add(string name, string request, bool probe = true) => cases.Add(new(name, [probe ? request + Probe : request]));
        string Get(string headers, string target = "/index.html", string version = "HTTP/1.1") =>
            $"GET {target} {version}\r\n{headers}\r\n";
        const string Host = "Host: localhost\r\n";

        Add("plain", Get(Host));
        Add("head", $"HEAD /index.html HTTP/1.1\r\n{Host}\r\n");
        Add("connection close", Get(Host + "Connection: close\r\n"));
        Add("HTTP/1.0", Get("", version: "HTTP/1.0"));
        Add("HTTP/1.0 keep-alive", Get("Connection: keep-alive\r\n", version: "HTTP/1.0"));
        Add("HTTP/1.2", Get(Host, version: "HTTP/1.2"));
        Add("HTTP/2.0 request line", Get(Host, version: "HTTP/2.0"));
        Add("HTTP/3.0", Get(Host, version: "HTTP/3.0"));

        // Header count: Kestrel allows 100 fields, Host included.
        foreach (var count in new[] { 98, 99, 100, 101, 150 })
        {
            Add($"{count} fields besides Host", Get(Host + string.Concat(Enumerable.Range(0, count).Select(i => $"X-{i}: v\r\n"))));
        }
        // Header bytes against the 1 KiB limit, and the request line against 256 bytes.
        foreach (var size in new[] { 600, 900, 1000, 1100, 4000 })
        {
            Add($"cookie of {size} bytes", Get(Host + $"Cookie: {new string('c', size)}\r\n"));
        }
        foreach (var size in new[] { 200, 240, 260, 1000 })
        {
            Add($"target of {size} bytes", Get(Host, target: "/index.html?" + new string('q', size)));
        }

        // Host validation.
        foreach (var host in new[] { "x:abc", ":", "[", "]", "[::1", "x:1:2", ":80", "[zz]", "[]:1", "localhost:", "a b", "a/b", "a@b",
            "localhost:80", "[::1]", "[::1]:8080", "127.0.0.1", "example.com:65535", "example.com:65536", "xn--d1acpjx3f.xn--p1ai", "a_b", "" })
        {
            Add($"Host '{host}'", Get($"Host: {host}\r\n"));
        }
        Add("no Host", Get(""));
        Add("two Hosts", Get(Host + Host));
        Add("absolute form, same host", Get(Host, target: "http://localhost/index.html"));
        Add("absolute form, other host", Get(Host, target: "http://other.example/index.html"));
        Add("authority form", Get(Host, target: "localhost:80"));
        Add("asterisk form", Get(Host, target: "*"));

        // Bodies: Content-Length and Transfer-Encoding alone and together.
        Add("GET with a body", Get(Host + "Content-Length: 5\r\n") + "hello");
        Add("GET with a chunked body", Get(Host + "Transfer-Encoding: chunked\r\n") + "5\r\nhello\r\n0\r\n\r\n");
        Add("CL and TE", Get(Host + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n") + "5\r\nhello\r\n0\r\n\r\n");
        Add("TE and CL", Get(Host + "Transfer-Encoding: chunked\r\nContent-Length: 40\r\n") + "0\r\n\r\n");
        Add("two CLs that differ", Get(Host + "Content-Length: 1\r\nContent-Length: 2\r\n") + "ab");
        Add("two CLs that agree", Get(Host + "Content-Length: 1\r\nContent-Length: 1\r\n") + "a");
        Add("CL list", Get(Host + "Content-Length: 1, 1\r\n") + "a");
        Add("negative CL", Get(Host + "Content-Length: -1\r\n"));
        Add("CL not a number", Get(Host + "Content-Length: abc\r\n"));
        Add("CL with a plus", Get(Host + "Content-Length: +1\r\n") + "a");
        Add("CL over the body limit", Get(Host + "Content-Length: 999999\r\n"), probe: false);
        Add("TE gzip", Get(Host + "Transfer-Encoding: gzip\r\n"));
        Add("TE chunked, gzip", Get(Host + "Transfer-Encoding: chunked, gzip\r\n") + "0\r\n\r\n");
        Add("TE gzip, chunked", Get(Host + "Transfer-Encoding: gzip, chunked\r\n") + "0\r\n\r\n");
        Add("TE twice", Get(Host + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n") + "0\r\n\r\n");
        Add("TE identity", Get(Host + "Transfer-Encoding: identity\r\n"));
        Add("TE with a tab", Get(Host + "Transfer-Encoding:\tchunked\r\n") + "0\r\n\r\n");
        Add("chunk size overflow", Get(Host + "Transfer-Encoding: chunked\r\n") + "fffffffffffffffffff\r\n");
        Add("chunk size not hex", Get(Host + "Transfer-Encoding: chunked\r\n") + "zz\r\nhello\r\n0\r\n\r\n");
        Add("chunk without its CRLF", Get(Host + "Transfer-Encoding: chunked\r\n") + "5\r\nhelloXX0\r\n\r\n");
        Add("chunk extension", Get(Host + "Transfer-Encoding: chunked\r\n") + "5;a=b\r\nhello\r\n0\r\n\r\n");
        Add("Expect 100-continue", Get(Host + "Expect: 100-continue\r\nContent-Length: 2\r\n") + "ab");
        Add("space before colon", Get(Host + "Content-Length : 0\r\n"));
        Add("header without colon", Get(Host + "NoColon\r\n"));
        Add("empty header name", Get(Host + ": v\r\n"));

        // Line folding, bare CR and LF, control bytes.
        Add("obs-fold", Get(Host + "X-A: a\r\n b\r\n"));
        Add("obs-fold with a tab", Get(Host + "X-A: a\r\n\tb\r\n"));
        Add("fold of Host", Get("Host: local\r\n host\r\n"));
        Add("bare LF line ends", "GET /index.html HTTP/1.1\nHost: localhost\n\n");
        Add("bare LF in a header", Get(Host + "X-A: a\nX-B: b\r\n"));
        Add("bare CR in a header", Get(Host + "X-A: a\rb\r\n"));
        Add("bare CR in the request line", "GET /index.html\rHTTP/1.1\r\n" + Host + "\r\n");
        Add("NUL in a header value", Get(Host + "X-A: a\0b\r\n"));
        Add("control byte in a header value", Get(Host + "X-A: a\u0001b\r\n"));
        Add("DEL in a header value", Get(Host + "X-A: a\u007fb\r\n"));
        Add("control byte in a header name", Get(Host + "X-\u0001A: a\r\n"));
        Add("space in a header name", Get(Host + "X A: a\r\n"));
        Add("NUL in the target", Get(Host, target: "/index\0.html"));
        Add("space in the target", Get(Host, target: "/index .html"));
        // In the query: a path Kestrel accepts with a control byte is StaticWeb's to refuse (400, see HostileRequestTests).
        Add("control byte in the query", Get(Host, target: "/index.html?a\u0001b"));
        Add("DEL in the query", Get(Host, target: "/index.html?a\u007fb"));
        Add("non-ASCII in the target", Get(Host, target: "/ind\u00e9x.html"));
        Add("non-ASCII in a header value", Get(Host + "X-A: caf\u00e9\r\n"));
        Add("tab between method and target", "GET\t/index.html HTTP/1.1\r\n" + Host + "\r\n");
        Add("two spaces after the method", "GET  /index.html HTTP/1.1\r\n" + Host + "\r\n");
        Add("lower-case version", Get(Host, version: "http/1.1"));
        Add("no version", "GET /index.html\r\n" + Host + "\r\n");
        Add("leading empty line", "\r\n" + Get(Host));
        Add("garbage", "\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u0001\u00fc\u0003\u0003", probe: false);

        // Pipelining, also with a bad request in the middle.
        Add("three pipelined", Get(Host) + Get(Host) + Get(Host));
        Add("pipelined HEAD and GET", $"HEAD /index.html HTTP/1.1\r\n{Host}\r\n" + Get(Host));
        Add("pipelined, bad Host second", Get(Host) + Get("Host: [zz]\r\n") + Get(Host));
        Add("pipelined, 101 fields second", Get(Host) + Get(Host + string.Concat(Enumerable.Range(0, 101).Select(i => $"X-{i}: v\r\n"))));
        Add("pipelined, close first", Get(Host + "Connection: close\r\n") + Get(Host));

        // HTTP/2 prior knowledge on an HTTP/1.1 endpoint, alone and after answered requests.
        const string Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
        Add("HTTP/2 preface", Preface, probe: false);
        Add("HTTP/2 preface after two requests", Get(Host) + Get(Host) + Preface, probe: false);

        // Split heads: in pieces with pauses, and byte by byte.
        var whole = Get(Host + "Accept-Encoding: gzip\r\n");
        cases.Add(new("head in three pieces", [whole[..10], whole[10..30], whole[30..] + Probe], PauseMs: 50));
        cases.Add(new("head byte by byte", [.. whole.Select(c => c.ToString()), Probe], PauseMs: 2));
        cases.Add(new("split inside CRLF", [Get(Host)[..^1], "\n" + Probe], PauseMs: 100));
        cases.Add(new("second request split", [Get(Host) + "GET /index", ".html HTTP/1.1\r\n" + Host + "\r\n"], PauseMs: 100));

        // Unfinished heads are timed out by RequestHeadersTimeout (2 s here; Kestrel's heartbeat checks once a second).
        var timeout = (HeadersTimeoutSeconds + 3) * 1000;
        cases.Add(new("unfinished head", ["GET /index.html HTTP/1.1\r\nHost: localhost\r\n"], QuietMs: timeout));
        cases.Add(new("unfinished request line", ["GET /index.html HT"], QuietMs: timeout));
        cases.Add(new("unfinished head after a request", [Get(Host) + "GET /index.html HTTP/1.1\r\n"], QuietMs: timeout));
        cases.Add(new("unfinished body", [Get(Host + "Content-Length: 10\r\n") + "abc"], QuietMs: timeout));
        cases.Add(new("connected, nothing sent", [], QuietMs: timeout));
        return cases;
    }

    [Fact]
    public async Task EveryEdgeCaseGetsKestrelsAnswerAndConnectionState()
    {
        var staticWeb = site.Client.BaseAddress!;
        var kestrel = new Uri(plain!.Urls.First());
        var corpus = Corpus();
        using var gate = new SemaphoreSlim(8);

        var results = await Task.WhenAll(corpus.Select(async c =>
        {
            await gate.WaitAsync();
            try
            {
                var answers = await Task.WhenAll(ExchangeAsync(staticWeb, c), ExchangeAsync(kestrel, c));
                return (Case: c, StaticWeb: answers[0], Kestrel: answers[1]);
            }
            finally
            {
                gate.Release();
            }
        }));

        // A server slowed by a busy machine can stay quiet past a case's wait; a real difference survives a second,
        // unhurried exchange with both, one case at a time.
        for (var i = 0; i < results.Length; i++)
        {
            if (results[i].StaticWeb != results[i].Kestrel)
            {
                var unhurried = results[i].Case with { QuietMs = results[i].Case.QuietMs + 4000 };
                results[i] = (results[i].Case, await ExchangeAsync(staticWeb, unhurried), await ExchangeAsync(kestrel, unhurried));
            }
        }

        var differences = results.Where(r => r.StaticWeb != r.Kestrel)
            .Select(r => $"{r.Case.Name}: StaticWeb '{r.StaticWeb}', Kestrel '{r.Kestrel}'").ToList();
        Assert.True(differences.Count == 0, $"{differences.Count} of {corpus.Count} differ:\n" + string.Join("\n", differences));

        // The corpus reaches Kestrel's checks: these are refused, and a plain request is answered and kept.
        string Of(string name) => results.Single(r => r.Case.Name == name).Kestrel;
        Assert.Equal("200 200 open", Of("plain"));
        Assert.Equal("431 closed", Of("101 fields besides Host"));
        Assert.Equal("431 closed", Of("cookie of 1100 bytes"));
        Assert.Equal("414 closed", Of("target of 260 bytes"));
        foreach (var host in new[] { "x:abc", ":", "[", "]", "[::1", "x:1:2", ":80", "[zz]", "[]:1" })
        {
            Assert.Equal("400 closed", Of($"Host '{host}'"));
        }
        Assert.Equal("400 closed", Of("obs-fold"));
        Assert.Equal("200 200 200 200 open", Of("three pipelined"));
        Assert.Equal("200 200 505 closed", Of("HTTP/2 preface after two requests"));
        Assert.EndsWith("closed", Of("unfinished head"));
    }

    /// <summary>
    /// Sends a case and reads until the server closes the connection or stays quiet: the statuses of
    /// the responses in order, then "closed" or "open" (and "not-http" when bytes other than HTTP/1.x came back).
    /// </summary>
    private static async Task<string> ExchangeAsync(Uri server, RawCase c)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server.Host, server.Port);
        try
        {
            foreach (var piece in c.Pieces)
            {
                await socket.SendAsync(Encoding.Latin1.GetBytes(piece));
                if (c.PauseMs > 0)
                {
                    await Task.Delay(c.PauseMs);
                }
            }
        }
        catch (SocketException)
        {
            // The server closed while the case was still being sent; what it answered is read below.
        }

        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        string state;
        while (true)
        {
            using var quiet = new CancellationTokenSource(c.QuietMs);
            try
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, quiet.Token);
                if (read == 0)
                {
                    state = "closed";
                    break;
                }
                received.Write(buffer, 0, read);
            }
            catch (OperationCanceledException)
            {
                state = "open";
                break;
            }
            catch (SocketException)
            {
                state = "closed";
                break;
            }
        }
        var text = Encoding.Latin1.GetString(received.ToArray());
        var statuses = StatusLine().Matches(text).Select(m => m.Groups[1].Value).ToList();
        if (text.Length > 0 && !text.StartsWith("HTTP/1.", StringComparison.Ordinal))
        {
            statuses.Insert(0, "not-http");
        }
        statuses.Add(state);
        return string.Join(' ', statuses);
    }

    [GeneratedRegex(@"HTTP/1\.[01] (\d{3}) ")]
    private static partial Regex StatusLine();
}
