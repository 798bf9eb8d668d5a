using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Sidecar.AppHost.Tests;

/// <summary>
/// A small OTLP/HTTP collector on loopback: it takes what the services' real OTLP exporters send
/// (protobuf) and keeps the spans and metric names, so tests see the telemetry as the dashboard would.
/// </summary>
public sealed class OtlpCollector : IAsyncDisposable
{
    private readonly WebApplication app;

    private OtlpCollector(WebApplication app) => this.app = app;

    public ConcurrentBag<CollectedSpan> Spans { get; } = [];

    public ConcurrentBag<CollectedMetric> Metrics { get; } = [];

    /// <summary>Every request body received (traces, metrics, logs), as sent.</summary>
    public ConcurrentBag<byte[]> Payloads { get; } = [];

    /// <summary>Whether any payload holds <paramref name="text"/> (UTF-8, as protobuf carries strings).</summary>
    public bool Holds(string text)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        return Payloads.Any(p => p.AsSpan().IndexOf(bytes) >= 0);
    }

    public string Endpoint => app.Urls.First();

    public static async Task<OtlpCollector> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var collector = new OtlpCollector(app);
        app.MapPost("/v1/traces", async (HttpRequest request) => { collector.ReadTraces(await collector.ReadBodyAsync(request)); return Results.Ok(); });
        app.MapPost("/v1/metrics", async (HttpRequest request) => { collector.ReadMetrics(await collector.ReadBodyAsync(request)); return Results.Ok(); });
        app.MapPost("/v1/logs", async (HttpRequest request) => { await collector.ReadBodyAsync(request); return Results.Ok(); });
        await app.StartAsync();
        return collector;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private async Task<byte[]> ReadBodyAsync(HttpRequest request)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer);
        var body = buffer.ToArray();
        Payloads.Add(body);
        return body;
    }

    // ExportTraceServiceRequest: resource_spans=1 { resource=1, scope_spans=2 { scope=1, spans=2 } }.
    private void ReadTraces(byte[] body)
    {
        foreach (var resourceSpans in Protobuf.Messages(body, 1))
        {
            var service = ServiceName(resourceSpans);
            foreach (var scopeSpans in Protobuf.Messages(resourceSpans, 2))
            {
                var scope = Protobuf.Messages(scopeSpans, 1).Select(s => Protobuf.String(s, 1)).FirstOrDefault() ?? "";
                foreach (var span in Protobuf.Messages(scopeSpans, 2))
                {
                    Spans.Add(new CollectedSpan(service, scope, Protobuf.String(span, 5) ?? "",
                        Convert.ToHexStringLower(Protobuf.Bytes(span, 1)), Convert.ToHexStringLower(Protobuf.Bytes(span, 2)),
                        Convert.ToHexStringLower(Protobuf.Bytes(span, 4))));
                }
            }
        }
    }

    // ExportMetricsServiceRequest: resource_metrics=1 { resource=1, scope_metrics=2 { scope=1, metrics=2 { name=1, description=2, unit=3 } } }.
    private void ReadMetrics(byte[] body)
    {
        foreach (var resourceMetrics in Protobuf.Messages(body, 1))
        {
            var service = ServiceName(resourceMetrics);
            foreach (var scopeMetrics in Protobuf.Messages(resourceMetrics, 2))
            {
                var scope = Protobuf.Messages(scopeMetrics, 1).Select(s => Protobuf.String(s, 1)).FirstOrDefault() ?? "";
                foreach (var metric in Protobuf.Messages(scopeMetrics, 2))
                {
                    Metrics.Add(new CollectedMetric(service, scope, Protobuf.String(metric, 1) ?? "",
                        Protobuf.String(metric, 2) ?? "", Protobuf.String(metric, 3) ?? ""));
                }
            }
        }
    }

    // Resource: attributes=1 { key=1, value=2 { string_value=1 } }.
    private static string ServiceName(ReadOnlyMemory<byte> withResource)
    {
        foreach (var resource in Protobuf.Messages(withResource, 1))
        {
            foreach (var attribute in Protobuf.Messages(resource, 1))
            {
                if (Protobuf.String(attribute, 1) == "service.name")
                {
                    return Protobuf.Messages(attribute, 2).Select(v => Protobuf.String(v, 1)).FirstOrDefault() ?? "";
                }
            }
        }
        return "";
    }
}

public sealed record CollectedSpan(string Service, string Scope, string Name, string TraceId, string SpanId, string ParentSpanId);

public sealed record CollectedMetric(string Service, string Scope, string Name, string Description, string Unit);

/// <summary>Just enough of the protobuf wire format to walk OTLP messages: length-delimited fields by number.</summary>
internal static class Protobuf
{
    public static IEnumerable<ReadOnlyMemory<byte>> Messages(ReadOnlyMemory<byte> message, int field) =>
        Fields(message).Where(f => f.Number == field && f.WireType == 2).Select(f => f.Value);

    public static string? String(ReadOnlyMemory<byte> message, int field) =>
        Messages(message, field).Select(v => System.Text.Encoding.UTF8.GetString(v.Span)).FirstOrDefault();

    public static byte[] Bytes(ReadOnlyMemory<byte> message, int field) =>
        Messages(message, field).Select(v => v.ToArray()).FirstOrDefault() ?? [];

    private static IEnumerable<(int Number, int WireType, ReadOnlyMemory<byte> Value)> Fields(ReadOnlyMemory<byte> message)
    {
        var position = 0;
        while (position < message.Length)
        {
            var key = Varint(message.Span, ref position);
            var number = (int)(key >> 3);
            var wireType = (int)(key & 7);
            switch (wireType)
            {
                case 0:
                    Varint(message.Span, ref position);
                    break;
                case 1:
                    position += 8;
                    break;
                case 2:
                    var length = (int)Varint(message.Span, ref position);
                    yield return (number, wireType, message.Slice(position, length));
                    position += length;
                    break;
                case 5:
                    position += 4;
                    break;
                default:
                    throw new InvalidDataException($"protobuf wire type {wireType} is not supported");
            }
        }
    }

    private static ulong Varint(ReadOnlySpan<byte> data, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = data[position++];
            value |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }
    }
}
