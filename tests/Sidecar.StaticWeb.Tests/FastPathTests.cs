using System.Diagnostics.Metrics;
using System.IO.Compression;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;

namespace Sidecar.StaticWeb.Tests;

/// <summary>
/// The fast path on a real Kestrel: it answers repeated plain requests with a copy of what the full
/// pipeline sent, from the revision the link names at each request; other bodiless GET and HEAD
/// requests are answered by Kestrel one at a time with the connection kept, and anything else goes to
/// Kestrel with the rest of the connection. Kestrel answers exactly as without the fast path.
/// </summary>
public sealed class FastPathTests : IAsyncLifetime
{
    private static readonly string Page = "<p>" + new string('x', 900) + "</p>";
    private static readonly string Text = string.Concat(Enumerable.Repeat("fast path text ", 200));
    // Above the 256 KiB memory limit: always sent from disk by Kestrel.
    private static readonly string BigText = string.Concat(Enumerable.Repeat("a big file sent by Kestrel ", 12_000));

    private readonly SiteFixture site = new();
    private FastResponseCounter counted = null!;

    public async Task InitializeAsync() => counted = await StartAsync(site);

    public async Task DisposeAsync()
    {
        counted.Dispose();
        await site.DisposeAsync();
    }

    private static async Task<FastResponseCounter> StartAsync(SiteFixture site)
    {
        site.WriteRevision("rev1", ("index.html", Page), ("a/b.txt", Text), (".env", "SECRET=1"), ("big.txt", BigText));
        site.WriteRevision("rev2", ("index.html", "<p>rev2</p>"), ("a/b.txt", "rev2 text"));
        site.Publish("rev1");
        await site.StartAsync();
        return new FastResponseCounter(site.Services);
    }

    private static string Get(string target, string extraHeaders = "", string method = "GET") =>
        $"{method} {target} HTTP/1.1\r\nHost: localhost\r\n{extraHeaders}\r\n";

    /// <summary>
    /// Asks for the request twice on a connection of its own, which Kestrel ends up serving (its first
    /// request is not kept yet): the second answer, a hit in the memory cache, is what gets kept.
    /// Returns that answer.
    /// </summary>
    private static async Task<RawResponse> WarmAsync(SiteFixture site, string request)
    {
        await using var connection = await RawConnection.OpenAsync(site.Client.BaseAddress!);
        await connection.SendAsync(request);
        return await connection.SendAsync(request);
    }

    private Task<RawConnection> ConnectAsync() => RawConnection.OpenAsync(site.Client.BaseAddress!);

    [Fact]
    public async Task ARepeatedRequestGetsTheFullPipelinesResponseFromTheFastPath()
    {
        var full = await WarmAsync(site, Get("/index.html"));
        Assert.Equal(0, counted.Total);
        await using var connection = await ConnectAsync();

        var fast = await connection.SendAsync(Get("/index.html"));
        var again = await connection.SendAsync(Get("/index.html", "User-Agent: test\r\nAccept: */*\r\nCookie: a=b\r\n"));

        Assert.Equal(2, counted.Total);
        Assert.Equal(200, fast.Status);
        Assert.Equal(Page, fast.Body);
        // The same headers, with their values, as the full pipeline sent (Date aside).
        Assert.Equal(full.HeadersWithoutDate, fast.HeadersWithoutDate);
        Assert.Equal(full.HeadersWithoutDate, again.HeadersWithoutDate);
        Assert.Equal("rev1", fast.Header("X-Content-Revision"));
        Assert.Equal("nosniff", fast.Header("X-Content-Type-Options"));
        Assert.True(DateTimeOffset.TryParse(fast.Header("Date"), out var date));
        Assert.InRange(date, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.Equal(1, site.Services.GetRequiredService<FastPath>().ActiveConnections);
    }

    [Fact]
    public async Task EveryRequestIsInAspNetCoresRequestDurationFastOrNot()
    {
        var factory = site.Services.GetRequiredService<IMeterFactory>();
        var measured = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var instruments = new System.Collections.Concurrent.ConcurrentDictionary<Instrument, byte>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "http.server.request.duration" && ReferenceEquals(instrument.Meter.Scope, factory))
            {
                instruments.TryAdd(instrument, 0);
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((_, seconds, tags, _) =>
        {
            var named = tags.ToArray().ToDictionary(t => t.Key, t => Convert.ToString(t.Value));
            Assert.InRange(seconds, 0, 10);
            measured.Enqueue($"{named["http.request.method"]} {named["http.response.status_code"]} {named["url.scheme"]} {named["network.protocol.version"]}");
        });
        listener.Start();

        await WarmAsync(site, Get("/index.html"));
        await using var connection = await ConnectAsync();
        await connection.SendAsync(Get("/index.html"));
        await connection.SendAsync(Get("/index.html", method: "HEAD"), head: true);
        await connection.SendAsync(Get("/missing.txt"));

        Assert.Equal(2, counted.Total);
        await Eventually(() => measured.Count == 5, TimeSpan.FromSeconds(10));
        Assert.Equal(["GET 200 http 1.1", "GET 200 http 1.1", "GET 200 http 1.1", "GET 404 http 1.1", "HEAD 200 http 1.1"], measured.Order());
        // One instrument: the fast path records into ASP.NET Core's own, not a look-alike beside it.
        var instrument = Assert.Single(instruments.Keys);
        Assert.Equal(StaticWebTelemetry.HostingMeter, instrument.Meter.Name);
    }

    [Fact]
    public async Task HeadGetsTheHeadersAndLengthWithoutTheBody()
    {
        await WarmAsync(site, Get("/a/b.txt"));
        await using var connection = await ConnectAsync();

        var head = await connection.SendAsync(Get("/a/b.txt", method: "HEAD"), head: true);
        var after = await connection.SendAsync(Get("/a/b.txt"));

        Assert.Equal(2, counted.Total);
        Assert.Equal(200, head.Status);
        Assert.Equal("", head.Body);
        Assert.Equal(Encoding.UTF8.GetByteCount(Text).ToString(), head.Header("Content-Length"));
        Assert.Equal(Text, after.Body);
    }

    [Fact]
    public async Task EachAcceptEncodingGetsTheRepresentationTheFullPipelineChose()
    {
        await WarmAsync(site, Get("/a/b.txt", "Accept-Encoding: gzip\r\n"));
        await WarmAsync(site, Get("/a/b.txt"));
        var before = counted.Total;
        await using var connection = await ConnectAsync();

        var gzip = await connection.SendAsync(Get("/a/b.txt", "Accept-Encoding: gzip\r\n"));
        var plain = await connection.SendAsync(Get("/a/b.txt"));

        Assert.Equal(before + 2, counted.Total);
        Assert.Equal("gzip", gzip.Header("Content-Encoding"));
        Assert.Equal("Accept-Encoding", gzip.Header("Vary"));
        using var unzip = new GZipStream(new MemoryStream(gzip.BodyBytes), CompressionMode.Decompress);
        Assert.Equal(Text, new StreamReader(unzip).ReadToEnd());
        Assert.Null(plain.Header("Content-Encoding"));
        Assert.Equal(Text, plain.Body);
    }

    [Fact]
    public async Task AfterASwapTheSameConnectionGetsTheNewRevisionWholeAndKeepsTheFastPath()
    {
        await WarmAsync(site, Get("/a/b.txt"));
        await using var connection = await ConnectAsync();
        Assert.Equal(Text, (await connection.SendAsync(Get("/a/b.txt"))).Body);
        Assert.Equal(1, counted.Total);

        site.Publish("rev2");
        // Kestrel answers while the new revision has nothing kept: the first from disk, the second from memory (and kept).
        var swapped = await connection.SendAsync(Get("/a/b.txt"));
        var cache = site.Services.GetRequiredService<RevisionTracker>().Current;
        Assert.Equal("rev2", cache.Revision);
        Assert.False(cache.TryGetFast("/a/b.txt", out _));
        var kept = await connection.SendAsync(Get("/a/b.txt"));
        Assert.True(cache.TryGetFast("/a/b.txt", out _));
        var fast = await connection.SendAsync(Get("/a/b.txt"));

        Assert.Equal(2, counted.Total);
        foreach (var response in new[] { swapped, kept, fast })
        {
            Assert.Equal(("rev2", "rev2 text"), (response.Header("X-Content-Revision"), response.Body));
        }
        Assert.Equal(1, site.Services.GetRequiredService<FastPath>().ActiveConnections);
    }

    [Fact]
    public async Task PipelinedRequestsAreAnsweredInOrderWhetherTheFastPathOrKestrelAnswersThem()
    {
        var validator = (await WarmAsync(site, Get("/index.html"))).Header("ETag");
        await using var connection = await ConnectAsync();

        var responses = await connection.SendManyAsync(
            Get("/index.html") + Get("/index.html", $"If-None-Match: {validator}\r\n") + Get("/big.txt") + Get("/.env")
            + Get("/a/b.txt", "Range: bytes=0-3\r\n") + Get("/index.html", method: "HEAD") + Get("/index.html"),
            count: 7, headAt: 5);

        Assert.Equal([200, 304, 200, 404, 206, 200, 200], responses.Select(r => r.Status));
        Assert.Equal(Page, responses[0].Body);
        Assert.Equal(BigText, responses[2].Body);
        Assert.Equal("fast", responses[4].Body);
        Assert.Equal("", responses[5].Body);
        Assert.Equal(Page, responses[6].Body);
        // The fast path answered the plain GETs and the HEAD of the kept file; Kestrel the rest, one by one.
        Assert.Equal(3, counted.Total);
        Assert.Equal(1, site.Services.GetRequiredService<FastPath>().ActiveConnections);
    }

    [Fact]
    public async Task AConditionalRequestIsKestrelsAndTheConnectionStaysFast()
    {
        var validator = (await WarmAsync(site, Get("/index.html"))).Header("ETag");
        await using var connection = await ConnectAsync();

        var revalidated = await connection.SendAsync(Get("/index.html", $"If-None-Match: {validator}\r\n"));
        var changed = await connection.SendAsync(Get("/index.html", "If-None-Match: \"other\"\r\n"));
        var fast = await connection.SendAsync(Get("/index.html"));

        Assert.Equal((304, 200, 200), (revalidated.Status, changed.Status, fast.Status));
        Assert.Equal(validator, revalidated.Header("ETag"));
        Assert.Equal(Page, changed.Body);
        Assert.Equal(1, counted.Total);
    }

    [Fact]
    public async Task AFileSentFromDiskGoesOutWithSendFileAndTheConnectionStaysFast()
    {
        var full = await WarmAsync(site, Get("/big.txt"));
        await WarmAsync(site, Get("/index.html"));
        await using var connection = await ConnectAsync();

        var big = await connection.SendAsync(Get("/big.txt"));
        var page = await connection.SendAsync(Get("/index.html"));
        var head = await connection.SendAsync(Get("/big.txt", method: "HEAD"), head: true);
        var again = await connection.SendAsync(Get("/big.txt"));

        Assert.Equal((BigText, Page, BigText), (big.Body, page.Body, again.Body));
        Assert.Equal(full.HeadersWithoutDate, big.HeadersWithoutDate);
        Assert.Equal(full.HeadersWithoutDate, head.HeadersWithoutDate);
        Assert.Equal(Encoding.ASCII.GetByteCount(BigText).ToString(), head.Header("Content-Length"));
        Assert.Equal("", head.Body);
        Assert.Equal(4, counted.Total);
        Assert.Equal(1, site.Services.GetRequiredService<FastPath>().ActiveConnections);
    }

    [Fact]
    public async Task PipelinedRequestsAroundAFileSentFromDiskKeepTheirOrder()
    {
        await WarmAsync(site, Get("/big.txt"));
        await WarmAsync(site, Get("/index.html"));
        await using var connection = await ConnectAsync();

        // Fast from memory, fast from disk, Kestrel (a range of the big file), fast from disk, fast from memory.
        var responses = await connection.SendManyAsync(
            Get("/index.html") + Get("/big.txt") + Get("/big.txt", "Range: bytes=2-6\r\n") + Get("/big.txt") + Get("/index.html"), 5);

        Assert.Equal([200, 200, 206, 200, 200], responses.Select(response => response.Status));
        Assert.Equal([Page, BigText, BigText[2..7], BigText, Page], responses.Select(response => response.Body));
        Assert.Equal(4, counted.Total);
    }

    [Fact]
    public async Task AfterASwapAKeptFileIsNotSentAgain()
    {
        await WarmAsync(site, Get("/big.txt"));
        await using var connection = await ConnectAsync();
        Assert.Equal(BigText, (await connection.SendAsync(Get("/big.txt"))).Body);

        // rev2 has no big.txt: Kestrel answers from the new revision.
        site.Publish("rev2");
        var gone = await connection.SendAsync(Get("/big.txt"));

        Assert.Equal((404, "rev2"), (gone.Status, gone.Header("X-Content-Revision")));
        Assert.Equal(1, counted.Total);
    }

    [Fact]
    public async Task ClientsThatResetTheConnectionLeaveNothingBehind()
    {
        await WarmAsync(site, Get("/index.html"));
        var fastPath = site.Services.GetRequiredService<FastPath>();
        var address = site.Client.BaseAddress!;
        for (var i = 0; i < 5; i++)
        {
            using var client = new TcpClient { LingerState = new LingerOption(true, 0) };
            await client.ConnectAsync(address.Host, address.Port);
            var stream = client.GetStream();
            // A fast answer, then a request for the 324 KB file sent from disk, reset while it is being sent.
            await stream.WriteAsync(Encoding.ASCII.GetBytes(Get("/index.html") + (i % 2 == 0 ? Get("/big.txt") : "")));
            Assert.True(await stream.ReadAsync(new byte[1024]) > 0);
            client.Client.Close();
        }

        await Eventually(() => fastPath.ActiveConnections == 0, TimeSpan.FromSeconds(10));
        await using var connection = await ConnectAsync();
        Assert.Equal(Page, (await connection.SendAsync(Get("/index.html"))).Body);
    }

    [Fact]
    public async Task ARequestKestrelRejectsClosesTheConnectionAsKestrelSays()
    {
        await WarmAsync(site, Get("/index.html"));
        await using var connection = await ConnectAsync();
        await connection.SendAsync(Get("/index.html"));

        // No Host: Kestrel answers 400 and closes the connection.
        var rejected = await connection.SendAsync("GET /index.html HTTP/1.1\r\nUser-Agent: x\r\n\r\n");

        Assert.Equal(400, rejected.Status);
        Assert.Equal("close", rejected.Header("Connection"));
        Assert.Equal(0, await connection.ReadToEndAsync());
    }

    [Fact]
    public async Task ABodyAfterKestrelHasAnsweredOneRequestIsPumpedToItWithTheRestOfTheConnection()
    {
        var validator = (await WarmAsync(site, Get("/index.html"))).Header("ETag");
        await using var connection = await ConnectAsync();
        Assert.Equal(304, (await connection.SendAsync(Get("/index.html", $"If-None-Match: {validator}\r\n"))).Status);
        var smuggled = Get("/.env");

        var responses = await connection.SendManyAsync(
            $"GET /a/b.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: {smuggled.Length}\r\n\r\n{smuggled}" + Get("/index.html") + Get("/big.txt"),
            count: 3);

        Assert.Equal([200, 200, 200], responses.Select(r => r.Status));
        Assert.Equal(Text, responses[0].Body);
        Assert.Equal(Page, responses[1].Body);
        Assert.Equal(BigText, responses[2].Body);
        Assert.Equal(0, counted.Total);
        Assert.Equal(0, site.Services.GetRequiredService<FastPath>().ActiveConnections);
    }

    [Fact]
    public async Task ABodyAfterAPlainLookingHeadIsNeverReadAsASecondRequest()
    {
        await WarmAsync(site, Get("/index.html"));
        await WarmAsync(site, Get("/.env"));
        await using var connection = await ConnectAsync();
        var smuggled = Get("/index.html");

        var responses = await connection.SendManyAsync(
            $"GET /a/b.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: {smuggled.Length}\r\n\r\n{smuggled}" + Get("/.env"), count: 2);

        Assert.Equal([200, 404], responses.Select(r => r.Status));
        Assert.Equal(Text, responses[0].Body);
        Assert.Equal(0, counted.Total);
    }

    [Theory]
    [InlineData("/./index.html", false)]
    [InlineData("/a/../index.html", false)]
    [InlineData("/%69ndex.html", false)]
    [InlineData("/index.html?v=1", false)]
    [InlineData("/INDEX.HTML", false)]
    [InlineData("/index.html/", false)]
    [InlineData("/.env", false)]
    [InlineData("/a/%2e%2e/.env", false)]
    [InlineData("/a/..%2f.env", false)]
    // Kestrel leaves "//" as it is and the site serves it with 200, so that answer is kept under its own key.
    [InlineData("//index.html", true)]
    public async Task TargetsThatOnlyLookLikeAKeptOneAreAnsweredAsWithoutTheFastPath(string target, bool kept)
    {
        await WarmAsync(site, Get("/index.html"));
        await WarmAsync(site, Get(target));
        var (expected, _) = await site.RawAsync("GET", target);
        await using var connection = await ConnectAsync();

        var response = await connection.SendAsync(Get(target));

        Assert.Equal(expected, response.Status);
        Assert.InRange(response.Status, 200, 499);
        Assert.DoesNotContain("SECRET", response.Body);
        Assert.Equal(kept ? 1 : 0, counted.Total);
    }

    [Fact]
    public async Task AHeadSplitAcrossWritesIsAnsweredOnceWhole()
    {
        await WarmAsync(site, Get("/index.html"));
        await using var connection = await ConnectAsync();
        var request = Get("/index.html", "User-Agent: split\r\n");

        await connection.WriteAsync(request[..10]);
        await Task.Delay(100);
        await connection.WriteAsync(request[10..30]);
        await Task.Delay(100);
        var response = await connection.SendAsync(request[30..] + Get("/index.html"));
        var second = await connection.ReadResponseAsync();

        Assert.Equal(Page, response.Body);
        Assert.Equal(Page, second.Body);
        Assert.Equal(2, counted.Total);
    }

    [Fact]
    public async Task AnIdleConnectionIsHandedToKestrelAndStaysUsable()
    {
        await using var idleSite = new SiteFixture("--StaticWeb:FastPathIdleSeconds=1");
        using var idleCounted = await StartAsync(idleSite);
        var fastPath = idleSite.Services.GetRequiredService<FastPath>();
        await WarmAsync(idleSite, Get("/index.html"));
        var before = idleCounted.Total;
        await using var connection = await RawConnection.OpenAsync(idleSite.Client.BaseAddress!);
        await using var withKestrel = await RawConnection.OpenAsync(idleSite.Client.BaseAddress!);
        await connection.SendAsync(Get("/index.html"));
        // This one has had Kestrel answer a request, so it is pumped through Kestrel after the hand-over.
        Assert.Equal(304, (await withKestrel.SendAsync(Get("/index.html", "If-None-Match: *\r\n"))).Status);
        Assert.Equal((2, before + 1), (fastPath.ActiveConnections, idleCounted.Total));

        await Eventually(() => fastPath.ActiveConnections == 0, TimeSpan.FromSeconds(10));
        var after = await connection.SendAsync(Get("/index.html"));
        var afterWithKestrel = await withKestrel.SendAsync(Get("/index.html"));

        Assert.Equal(Page, after.Body);
        Assert.Equal(Page, afterWithKestrel.Body);
        Assert.Equal(before + 1, idleCounted.Total);
    }

    [Fact]
    public async Task AClientThatStopsReadingIsDisconnectedAfterTheIdlePeriod()
    {
        await using var idleSite = new SiteFixture("--StaticWeb:FastPathIdleSeconds=1");
        using var idleCounted = await StartAsync(idleSite);
        var fastPath = idleSite.Services.GetRequiredService<FastPath>();
        await WarmAsync(idleSite, Get("/big.txt"));
        await using var stuck = await RawConnection.OpenAsync(idleSite.Client.BaseAddress!);

        // About 32 MB of responses asked for, none read: the sends stall once the socket buffers are full.
        await stuck.WriteAsync(string.Concat(Enumerable.Repeat(Get("/big.txt"), 100)));
        await Eventually(() => idleCounted.Total > 0, TimeSpan.FromSeconds(10));

        await Eventually(() => fastPath.ActiveConnections == 0, TimeSpan.FromSeconds(10));
        Assert.InRange(idleCounted.Total, 1, 99);
        await using var connection = await RawConnection.OpenAsync(idleSite.Client.BaseAddress!);
        Assert.Equal(BigText, (await connection.SendAsync(Get("/big.txt"))).Body);
    }

    [Fact]
    public async Task AClientThatReadsSlowlyGetsTheWholeFilePastTheIdlePeriod()
    {
        await using var idleSite = new SiteFixture("--StaticWeb:FastPathIdleSeconds=1");
        using var idleCounted = await StartAsync(idleSite);
        // Larger than the socket buffers can hold (Linux lets a send buffer grow to 4 MB), so the send waits for the client.
        var large = new byte[16 * 1024 * 1024];
        new Random(7).NextBytes(large);
        idleSite.WriteRevisionBytes("rev1", ("large.bin", large));
        // Asked for twice (the second answer is the one kept), read as fast as the client can.
        Assert.Equal(large, await idleSite.Client.GetByteArrayAsync("/large.bin"));
        Assert.Equal(large, await idleSite.Client.GetByteArrayAsync("/large.bin"));
        var before = idleCounted.Total;

        using var client = new TcpClient { ReceiveBufferSize = 64 * 1024 };
        await client.ConnectAsync(idleSite.Client.BaseAddress!.Host, idleSite.Client.BaseAddress.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(Get("/large.bin")));
        // About 2.5 MB/s: the response takes some 6 s, several idle periods, with progress all along.
        var received = new MemoryStream();
        var chunk = new byte[64 * 1024];
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (received.Length < large.Length + 100 && DateTime.UtcNow < deadline)
        {
            var read = await stream.ReadAsync(chunk);
            if (read == 0)
            {
                break;
            }
            received.Write(chunk, 0, read);
            await Task.Delay(25);
        }

        var bytes = received.ToArray();
        var headEnd = bytes.AsSpan().IndexOf("\r\n\r\n"u8) + 4;
        Assert.StartsWith("HTTP/1.1 200 OK", Encoding.ASCII.GetString(bytes, 0, 20));
        Assert.Equal(large, bytes[headEnd..]);
        Assert.Equal(before + 1, idleCounted.Total);
    }

    [Fact]
    public async Task StoppingTheServerDoesNotWaitForIdleConnectionsOfTheFastPath()
    {
        var stoppingSite = new SiteFixture();
        using var stoppingCounted = await StartAsync(stoppingSite);
        await WarmAsync(stoppingSite, Get("/index.html"));
        var before = stoppingCounted.Total;
        await using var connection = await RawConnection.OpenAsync(stoppingSite.Client.BaseAddress!);
        await using var withKestrel = await RawConnection.OpenAsync(stoppingSite.Client.BaseAddress!);
        await connection.SendAsync(Get("/index.html"));
        Assert.Equal(304, (await withKestrel.SendAsync(Get("/index.html", "If-None-Match: *\r\n"))).Status);
        Assert.Equal(before + 1, stoppingCounted.Total);

        var stopping = System.Diagnostics.Stopwatch.StartNew();
        await stoppingSite.DisposeAsync();

        Assert.InRange(stopping.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        Assert.Equal(0, await connection.ReadToEndAsync());
        Assert.Equal(0, await withKestrel.ReadToEndAsync());
    }

    [Fact]
    public async Task TurnedOffEveryRequestGoesThroughKestrel()
    {
        await using var offSite = new SiteFixture("--StaticWeb:FastPath=false");
        using var offCounted = await StartAsync(offSite);
        var full = await WarmAsync(offSite, Get("/index.html"));
        await using var connection = await RawConnection.OpenAsync(offSite.Client.BaseAddress!);

        var response = await connection.SendAsync(Get("/index.html"));

        Assert.Equal(full.HeadersWithoutDate, response.HeadersWithoutDate);
        Assert.Equal(0, offCounted.Total);
        Assert.Equal(0, offSite.Services.GetRequiredService<FastPath>().ActiveConnections);
        Assert.False(offSite.Services.GetRequiredService<RevisionTracker>().Current.TryGetFast("/index.html", out _));
    }

    private static async Task Eventually(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold in time");
            await Task.Delay(50);
        }
    }
}

/// <summary>Counts one server's <c>staticweb.fast_path.responses</c> (other tests' servers run in parallel).</summary>
public sealed class FastResponseCounter : IDisposable
{
    private readonly MeterListener listener = new();
    private long total;

    public FastResponseCounter(IServiceProvider services)
    {
        var factory = services.GetRequiredService<IMeterFactory>();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "staticweb.fast_path.responses" && ReferenceEquals(instrument.Meter.Scope, factory))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref total, value));
        listener.Start();
    }

    public long Total => Interlocked.Read(ref total);

    public void Dispose() => listener.Dispose();
}

/// <summary>One response read off a raw connection.</summary>
public sealed record RawResponse(int Status, List<(string Name, string Value)> Headers, byte[] BodyBytes)
{
    public string Body => Encoding.UTF8.GetString(BodyBytes);

    public string? Header(string name) => Headers.FirstOrDefault(h => string.Equals(h.Name, name, StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>Name-sorted, so the order a server writes them in does not matter.</summary>
    public string HeadersWithoutDate => string.Join("\n", Headers
        .Where(h => !string.Equals(h.Name, "Date", StringComparison.OrdinalIgnoreCase))
        .Select(h => $"{h.Name.ToLowerInvariant()}: {h.Value}").Order(StringComparer.Ordinal));
}

/// <summary>A keep-alive connection that sends requests as written and reads responses by their Content-Length.</summary>
public sealed class RawConnection : IAsyncDisposable
{
    private readonly TcpClient client;
    private readonly NetworkStream stream;
    private byte[] pending = [];

    private RawConnection(TcpClient client)
    {
        this.client = client;
        stream = client.GetStream();
        stream.ReadTimeout = 10_000;
    }

    public static async Task<RawConnection> OpenAsync(Uri address)
    {
        var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(address.Host, address.Port);
        return new RawConnection(client);
    }

    public async Task WriteAsync(string bytes)
    {
        await stream.WriteAsync(Encoding.Latin1.GetBytes(bytes));
        await stream.FlushAsync();
    }

    public async Task<RawResponse> SendAsync(string request, bool head = false)
    {
        await WriteAsync(request);
        return await ReadResponseAsync(head);
    }

    public async Task<List<RawResponse>> SendManyAsync(string requests, int count, int headAt = -1)
    {
        await WriteAsync(requests);
        var responses = new List<RawResponse>();
        for (var i = 0; i < count; i++)
        {
            responses.Add(await ReadResponseAsync(head: i == headAt));
        }
        return responses;
    }

    /// <summary>Reads until the server closes the connection; the number of bytes it sent meanwhile.</summary>
    public async Task<int> ReadToEndAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var total = pending.Length;
        var buffer = new byte[4096];
        int read;
        while ((read = await stream.ReadAsync(buffer, timeout.Token)) > 0)
        {
            total += read;
        }
        return total;
    }

    public async Task<RawResponse> ReadResponseAsync(bool head = false)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        int end;
        while ((end = pending.AsSpan().IndexOf("\r\n\r\n"u8)) < 0)
        {
            await FillAsync(timeout.Token);
        }
        var lines = Encoding.Latin1.GetString(pending, 0, end).Split("\r\n");
        var status = int.Parse(lines[0].AsSpan(9, 3));
        var headers = lines.Skip(1).Select(line => line.Split(':', 2)).Select(p => (p[0], p[1].Trim())).ToList();
        string? Find(string name) => headers.FirstOrDefault(h => string.Equals(h.Item1, name, StringComparison.OrdinalIgnoreCase)).Item2;
        pending = pending[(end + 4)..];
        if (head || status is 304 or 204)
        {
            return new RawResponse(status, headers, []);
        }
        if (Find("Transfer-Encoding") is "chunked")
        {
            return new RawResponse(status, headers, await ReadChunksAsync(timeout.Token));
        }
        var length = Find("Content-Length") is { } lengthHeader ? int.Parse(lengthHeader) : 0;
        return new RawResponse(status, headers, await TakeAsync(length, timeout.Token));
    }

    private async Task<byte[]> TakeAsync(int length, CancellationToken cancellation)
    {
        while (pending.Length < length)
        {
            await FillAsync(cancellation);
        }
        var taken = pending[..length];
        pending = pending[length..];
        return taken;
    }

    private async Task<byte[]> ReadChunksAsync(CancellationToken cancellation)
    {
        var body = new List<byte>();
        while (true)
        {
            int lineEnd;
            while ((lineEnd = pending.AsSpan().IndexOf("\r\n"u8)) < 0)
            {
                await FillAsync(cancellation);
            }
            var size = Convert.ToInt32(Encoding.ASCII.GetString(pending, 0, lineEnd).Split(';')[0], 16);
            pending = pending[(lineEnd + 2)..];
            var chunk = await TakeAsync(size + 2, cancellation);
            if (size == 0)
            {
                return [.. body];
            }
            body.AddRange(chunk[..size]);
        }
    }

    private async Task FillAsync(CancellationToken cancellation)
    {
        var buffer = new byte[16 * 1024];
        var read = await stream.ReadAsync(buffer, cancellation);
        if (read == 0)
        {
            throw new EndOfStreamException("the server closed the connection");
        }
        pending = [.. pending, .. buffer.AsSpan(0, read)];
    }

    public ValueTask DisposeAsync()
    {
        stream.Dispose();
        client.Dispose();
        return ValueTask.CompletedTask;
    }
}
