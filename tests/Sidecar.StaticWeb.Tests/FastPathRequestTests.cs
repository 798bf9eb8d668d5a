using System.Text;

namespace Sidecar.StaticWeb.Tests;

/// <summary>Which request heads the fast path takes as its own; everything else is left to Kestrel.</summary>
public sealed class FastPathRequestTests
{
    private static FastPathRequest.Verdict Parse(string head) => FastPathRequest.Parse(Encoding.Latin1.GetBytes(head), out _);

    [Fact]
    public void APlainGetIsTakenWithItsTargetLengthAndKey()
    {
        var bytes = "GET /a/b-1_2.~x.css HTTP/1.1\r\nHost: example.org:8080\r\nUser-Agent: wrk\r\nAccept-Encoding: gzip, br\r\n\r\nGET /next"u8.ToArray();

        Assert.Equal(FastPathRequest.Verdict.Simple, FastPathRequest.Parse(bytes, out var request));

        Assert.False(request.IsHead);
        Assert.Equal("/a/b-1_2.~x.css", Encoding.ASCII.GetString(request.Target));
        Assert.Equal(bytes.Length - "GET /next".Length, request.Length);
        var key = new char[request.KeyLength];
        request.WriteKey(key);
        Assert.Equal(FastPathRequest.Key("/a/b-1_2.~x.css", "gzip, br"), new string(key));
    }

    [Fact]
    public void AHeadWithoutAcceptEncodingHasTheBareTargetAsItsKey()
    {
        Assert.Equal(FastPathRequest.Verdict.Simple, FastPathRequest.Parse("HEAD / HTTP/1.1\r\nhost: x\r\nconnection: Keep-Alive\r\n\r\n"u8, out var request));

        Assert.True(request.IsHead);
        var key = new char[request.KeyLength];
        request.WriteKey(key);
        Assert.Equal("/", new string(key));
        Assert.NotEqual(FastPathRequest.Key("/", ""), FastPathRequest.Key("/", null));
    }

    [Fact]
    public void TheCallersTraceContextIsKept()
    {
        Assert.Equal(FastPathRequest.Verdict.Simple, FastPathRequest.Parse(
            "GET / HTTP/1.1\r\nHost: x\r\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\ntracestate: a=b\r\n\r\n"u8, out var request));

        Assert.Equal("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", Encoding.ASCII.GetString(request.TraceParent));
        Assert.Equal("a=b", Encoding.ASCII.GetString(request.TraceState));
    }

    [Theory]
    [InlineData("GET /index.html HTTP/1.1\r\nHost: x\r\n")]
    [InlineData("GET /index.ht")]
    [InlineData("HEA")]
    [InlineData("")]
    public void AHeadNotYetCompleteIsAwaited(string head) => Assert.Equal(FastPathRequest.Verdict.Incomplete, Parse(head));

    [Theory]
    // Targets and headers the fast path does not answer; Kestrel answers them one at a time.
    [InlineData("GET /?a=1 HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("GET /%2e%2e/x HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("GET /a\\b HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("GET /a#b HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost:\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: x/y\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: a@b\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\nRange: bytes=0-1\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"a\"\r\n\r\n")]
    [InlineData("HEAD / HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: Thu, 01 Jan 2026 00:00:00 GMT\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nAccept-Encoding: br\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\ntraceparent: a\r\ntraceparent: b\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\nbaggage: a=b\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\nX-Anything: 1\r\n\r\n")]
    public void OtherBodilessGetAndHeadRequestsAreForwardedAlone(string head)
    {
        Assert.Equal(FastPathRequest.Verdict.Forward, FastPathRequest.Parse(Encoding.Latin1.GetBytes(head), out var request));
        Assert.Equal(head.Length, request.Length);
    }

    [Theory]
    // Methods, versions and targets Kestrel judges with the rest of the connection.
    [InlineData("POST / HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("get / HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("GET / HTTP/1.0\r\nHost: x\r\n\r\n")]
    [InlineData("GET / HTTP/2.0\r\nHost: x\r\n\r\n")]
    [InlineData("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")]
    [InlineData("GET  / HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("GET / HTTP/1.1 \r\nHost: x\r\n\r\n")]
    [InlineData("GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n")]
    [InlineData("GET /\u00e9 HTTP/1.1\r\nHost: x\r\n\r\n")]
    // Anything that frames a body or changes the connection.
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\ncontent-length: 0\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\n\r\n")]
    // Malformed lines.
    [InlineData("GET / HTTP/1.1\nHost: x\n\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\nUser-Agent: y\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\nUser-Agent : y\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\nhello")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: y\r\n z\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\n: y\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: caf\u00e9\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: a\0b\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: a\rb\r\n\r\n")]
    // Not HTTP at all: a TLS ClientHello's first bytes.
    [InlineData("\u0016\u0003\u0001\u0002\u0000\u0001")]
    public void AnythingElseIsLeftToKestrelWithTheConnection(string head) => Assert.Equal(FastPathRequest.Verdict.Other, Parse(head));

    [Fact]
    public void AHeadLongerThanTheLimitIsLeftToKestrel()
    {
        var cookie = new string('a', FastPathRequest.MaxHeadBytes);

        Assert.Equal(FastPathRequest.Verdict.Other, Parse($"GET / HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n\r\n"));
        Assert.Equal(FastPathRequest.Verdict.Other, Parse($"GET / HTTP/1.1\r\nHost: x\r\nCookie: {cookie}"));
        Assert.Equal(FastPathRequest.Verdict.Forward, Parse($"GET /{new string('a', FastPathRequest.MaxTargetBytes)} HTTP/1.1\r\nHost: x\r\n\r\n"));
    }
}
