using System.Buffers;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;

// The least a .NET server on Kestrel's socket transport can do per request, to set StaticWeb's figures against:
//   kestrel PORT [BYTES]:  Kestrel's HTTP/1.1 and an app.Run that writes a cached body of BYTES (default 1024; type,
//                          length and ETag set);
//   headers PORT [BYTES]:  the same with the other headers StaticWeb sends for that file, set the way it sets them;
//   defaults PORT [BYTES]: headers, plus Sidecar's service defaults (request metrics, traces of the requests its sampler
//                          picks, logging) as StaticWeb has them; give OTEL_TRACES_SAMPLER=parentbased_traceidratio and
//                          OTEL_TRACES_SAMPLER_ARG=0.05 for StaticWeb's production ratio;
//   raw PORT [BYTES]:      Kestrel's transport only; every request (up to its blank line) gets the same canned response.
var mode = args[0];
var port = int.Parse(args[1]);
var body = new byte[args.Length > 2 ? int.Parse(args[2]) : 1024];
Array.Fill(body, (byte)'a');
var builder = WebApplication.CreateSlimBuilder();
if (mode == "defaults")
{
    builder.AddServiceDefaults();
}
else
{
    builder.Logging.ClearProviders();
}
builder.Services.Configure<SocketTransportOptions>(o => o.UnsafePreferInlineScheduling = true);
builder.WebHost.ConfigureKestrel(kestrel =>
{
    // As StaticWeb: no Server header.
    kestrel.AddServerHeader = false;
    kestrel.ListenLocalhost(port, listen =>
    {
        if (mode == "raw")
        {
            listen.UseConnectionHandler<CannedResponses>();
        }
    });
});
var app = builder.Build();
CannedResponses.Response = [.. Encoding.ASCII.GetBytes(
    $"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\nETag: \"abcdefabcdef\"\r\nDate: {DateTime.UtcNow:R}\r\n\r\n"), .. body];
app.Run(context =>
{
    context.Response.ContentType = "text/plain";
    context.Response.ContentLength = body.Length;
    context.Response.Headers.ETag = "\"abcdefabcdef\"";
    if (mode is "headers" or "defaults")
    {
        var headers = context.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "strict-origin-when-cross-origin";
        headers["X-Content-Revision"] = "rev-a";
        headers.Vary = "Accept-Encoding";
        headers.LastModified = "Tue, 01 Dec 2026 12:00:00 GMT";
        headers.CacheControl = "public, max-age=300";
        headers.AcceptRanges = "bytes";
    }
    return context.Response.Body.WriteAsync(body).AsTask();
});
app.Run();

internal sealed class CannedResponses : ConnectionHandler
{
    public static byte[] Response = [];
    private static readonly byte[] EndOfHeaders = "\r\n\r\n"u8.ToArray();

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        while (true)
        {
            var result = await input.ReadAsync();
            var buffer = result.Buffer;
            var requests = 0;
            while (true)
            {
                var reader = new SequenceReader<byte>(buffer);
                if (!reader.TryReadTo(out ReadOnlySequence<byte> _, EndOfHeaders, advancePastDelimiter: true))
                {
                    break;
                }
                buffer = buffer.Slice(reader.Position);
                requests++;
            }
            for (var i = 0; i < requests; i++)
            {
                output.Write(Response);
            }
            input.AdvanceTo(buffer.Start, buffer.End);
            if (requests > 0)
            {
                await output.FlushAsync();
            }
            if (result.IsCompleted)
            {
                return;
            }
        }
    }
}
