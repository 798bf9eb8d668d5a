using System.Text;
using Sidecar.StaticWeb.Compression;
using Sidecar.StaticWeb.Files;

namespace Sidecar.StaticWeb.Http;

/// <summary>
/// Sends a <see cref="FileEntry"/>: picks the representation by <c>Accept-Encoding</c>, answers
/// preconditions (304/412) and ranges (206, multipart/byteranges, 416), and sends the bytes from
/// memory or read piece by piece from the revision's folder.
/// </summary>
public sealed class FileResponseWriter
{
    private const string NotFoundCacheControl = "no-cache";

    public Task WriteAsync(HttpContext context, FileEntry entry)
    {
        var request = context.Request;
        var response = context.Response;
        var headers = response.Headers;
        var isGet = HttpMethods.IsGet(request.Method);
        var wantsRange = isGet && request.Headers.Range.Count > 0;

        var representation = entry.Identity;
        if (entry.VariesByEncoding)
        {
            headers.Vary = "Accept-Encoding";
            // A range is served from the file as it is, so its offsets mean the same to every client.
            if (!wantsRange)
            {
                representation = Negotiate(entry, request.Headers.AcceptEncoding, build: true, out _) ?? representation;
            }
        }
        headers.ETag = representation.ETag;
        headers.LastModified = entry.LastModifiedHeader;
        headers.CacheControl = entry.CacheControl;
        headers.AcceptRanges = "bytes";

        switch (ConditionalRequest.Evaluate(request.Headers, representation.ETag, entry.LastModified))
        {
            case Precondition.NotModified:
                response.StatusCode = StatusCodes.Status304NotModified;
                return Task.CompletedTask;
            case Precondition.Failed:
                response.StatusCode = StatusCodes.Status412PreconditionFailed;
                response.ContentLength = 0;
                return Task.CompletedTask;
        }
        if (representation.Coding is not null)
        {
            headers.ContentEncoding = representation.Coding;
        }

        if (wantsRange && ConditionalRequest.RangeAllowed(request.Headers, representation.ETag, entry.LastModified))
        {
            switch (ByteRanges.Parse(request.Headers.Range, representation.Length, out var ranges))
            {
                case RangeOutcome.Unsatisfiable:
                    response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
                    headers.ContentRange = $"bytes */{representation.Length}";
                    response.ContentLength = 0;
                    return Task.CompletedTask;
                case RangeOutcome.Satisfiable when ranges.Count == 1:
                    var range = ranges[0];
                    response.StatusCode = StatusCodes.Status206PartialContent;
                    headers.ContentRange = $"bytes {range.Start}-{range.End}/{representation.Length}";
                    response.ContentType = entry.ContentType;
                    response.ContentLength = range.Length;
                    return SendAsync(context, representation, range.Start, range.Length);
                case RangeOutcome.Satisfiable:
                    return WriteMultipartAsync(context, entry, representation, ranges);
            }
        }

        response.ContentType = entry.ContentType;
        response.ContentLength = representation.Length;
        return HttpMethods.IsHead(request.Method) ? Task.CompletedTask : SendAsync(context, representation, 0, representation.Length);
    }

    /// <summary>
    /// Whether <see cref="WriteAsync"/> would answer this request without touching the disk or
    /// compressing: the plain bytes are in memory, and the coded form it would pick is either in
    /// memory already or not wanted.
    /// </summary>
    public static bool ServesFromMemory(HttpContext context, FileEntry entry)
    {
        if (entry.Identity.Body is null)
        {
            return false;
        }
        if (!entry.VariesByEncoding)
        {
            return true;
        }
        var chosen = Negotiate(entry, context.Request.Headers.AcceptEncoding, build: false, out var unbuilt);
        return !unbuilt && (chosen is null || chosen.Body is not null);
    }

    /// <summary>The site's 404 page: its bytes with status 404, never cached by clients, no validators or ranges.</summary>
    public Task WriteNotFoundPageAsync(HttpContext context, FileEntry page)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status404NotFound;
        response.ContentType = page.ContentType;
        response.Headers.CacheControl = NotFoundCacheControl;
        response.ContentLength = page.Identity.Length;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : SendAsync(context, page.Identity, 0, page.Identity.Length);
    }

    /// <summary>
    /// The coded form this request gets: the first accepted one, brotli then gzip, that exists (a form
    /// can turn out not worth having). With <paramref name="build"/> false nothing is compressed: a form
    /// not built yet ends the search with <paramref name="unbuilt"/> set.
    /// </summary>
    private static Representation? Negotiate(FileEntry entry, Microsoft.Extensions.Primitives.StringValues acceptEncoding, bool build, out bool unbuilt)
    {
        unbuilt = false;
        if (acceptEncoding.Count == 0)
        {
            return null;
        }
        var accepted = AcceptEncoding.Parse(acceptEncoding);
        foreach (var (coding, form) in (ReadOnlySpan<(ContentCoding, Lazy<Representation?>?)>)[(ContentCoding.Brotli, entry.Brotli), (ContentCoding.Gzip, entry.Gzip)])
        {
            if ((accepted & coding) == 0 || form is null)
            {
                continue;
            }
            if (!build && !form.IsValueCreated)
            {
                unbuilt = true;
                return null;
            }
            if (form.Value is { } representation)
            {
                return representation;
            }
        }
        return null;
    }

    private static async Task WriteMultipartAsync(HttpContext context, FileEntry entry, Representation representation, List<ByteRange> ranges)
    {
        var response = context.Response;
        var boundary = Guid.NewGuid().ToString("N");
        var partHeaders = new byte[ranges.Count][];
        long length = 0;
        for (var i = 0; i < ranges.Count; i++)
        {
            var range = ranges[i];
            partHeaders[i] = Encoding.ASCII.GetBytes(
                $"{(i == 0 ? "" : "\r\n")}--{boundary}\r\nContent-Type: {entry.ContentType}\r\nContent-Range: bytes {range.Start}-{range.End}/{representation.Length}\r\n\r\n");
            length += partHeaders[i].Length + range.Length;
        }
        var closing = Encoding.ASCII.GetBytes($"\r\n--{boundary}--\r\n");
        length += closing.Length;

        response.StatusCode = StatusCodes.Status206PartialContent;
        response.ContentType = $"multipart/byteranges; boundary={boundary}";
        response.ContentLength = length;
        for (var i = 0; i < ranges.Count; i++)
        {
            await response.Body.WriteAsync(partHeaders[i], context.RequestAborted);
            await SendAsync(context, representation, ranges[i].Start, ranges[i].Length);
        }
        await response.Body.WriteAsync(closing, context.RequestAborted);
    }

    // Bodies from memory up to SingleWriteBytes go to Kestrel in one write (one flush); larger ones in awaited pieces,
    // so a connection holds one piece at a time (64 KiB pieces of an 850 KiB body peaked ~18 MB higher: docs/staticweb.md).
    private const int SingleWriteBytes = 128 * 1024;
    private const int WriteChunkBytes = 32 * 1024;

    private static Task SendAsync(HttpContext context, Representation representation, long offset, long count)
    {
        if (representation.Body is { } body)
        {
            if (count > SingleWriteBytes)
            {
                return SendInChunksAsync(context, body.AsMemory((int)offset, (int)count));
            }
            var write = context.Response.BodyWriter.WriteAsync(body.AsMemory((int)offset, (int)count), context.RequestAborted);
            return write.IsCompletedSuccessfully ? Task.CompletedTask : write.AsTask();
        }
        return SendFromDiskAsync(context, representation.PhysicalPath!, offset, count);
    }

    // Read straight into Kestrel's response buffer a piece at a time, each piece flushed before the next is read: one copy
    // from the page cache and no task per piece, where SendFileAsync copies through a buffer with an asynchronous read per piece.
    private static async Task SendFromDiskAsync(HttpContext context, string path, long offset, long count)
    {
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        var writer = context.Response.BodyWriter;
        while (count > 0)
        {
            var buffer = writer.GetMemory(WriteChunkBytes);
            var read = RandomAccess.Read(file, buffer.Span[..(int)Math.Min(buffer.Length, count)], offset);
            if (read == 0)
            {
                // A published snapshot never changes; a file shorter than its stat said was changed in place.
                throw new IOException($"{path} ended {count} bytes before the length it was served with; a published revision must not change");
            }
            writer.Advance(read);
            offset += read;
            count -= read;
            var flushed = await writer.FlushAsync(context.RequestAborted);
            if (flushed.IsCanceled || flushed.IsCompleted)
            {
                return;
            }
            if (!Thread.CurrentThread.IsThreadPoolThread)
            {
                // Resumed by a send completion on the socket's own thread (inline scheduling): the next read may block, so not there.
                await Task.Yield();
            }
        }
    }

    private static async Task SendInChunksAsync(HttpContext context, ReadOnlyMemory<byte> body)
    {
        var writer = context.Response.BodyWriter;
        while (!body.IsEmpty)
        {
            var chunk = body[..Math.Min(WriteChunkBytes, body.Length)];
            var flushed = await writer.WriteAsync(chunk, context.RequestAborted);
            if (flushed.IsCanceled || flushed.IsCompleted)
            {
                return;
            }
            body = body[chunk.Length..];
        }
    }
}
