using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace Sidecar.StaticWeb.Tests;

/// <summary>
/// The link swapped 100 times while clients keep asking: every response is whole, and its body is
/// the one of the revision its X-Content-Revision names.
/// </summary>
[Trait("Category", "InProcess")]
public sealed class SwapUnderLoadTests : IAsyncLifetime
{
    private static readonly string[] Revisions = ["rev-a", "rev-b", "rev-c"];
    // 40 KB is kept in memory and compressed; 600 KB is sent from disk.
    private readonly SiteFixture site = new("--StaticWeb:CacheMaxFileBytes=65536");

    public async Task InitializeAsync()
    {
        foreach (var revision in Revisions)
        {
            site.WriteRevision(revision,
                ("index.html", $"<p>{revision}</p>"),
                ("medium.txt", Repeat(revision, 40 * 1024)),
                ("large.txt", Repeat(revision, 600 * 1024)));
        }
        site.Publish(Revisions[0]);
        await site.StartAsync();
    }

    public async Task DisposeAsync() => await site.DisposeAsync();

    [Fact]
    public async Task NoResponseFailsOrMixesRevisionsWhileTheLinkIsSwapped()
    {
        var failures = new ConcurrentQueue<string>();
        var seen = new ConcurrentDictionary<string, int>();
        var responses = 0;
        using var handler = new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.All, MaxConnectionsPerServer = 16 };
        using var client = new HttpClient(handler) { BaseAddress = site.Client.BaseAddress };
        using var swapping = new CancellationTokenSource();

        async Task ClientLoop(int worker)
        {
            var paths = new[] { "/", "/medium.txt", "/large.txt" };
            for (var i = 0; !swapping.IsCancellationRequested; i++)
            {
                var path = paths[(worker + i) % paths.Length];
                var request = new HttpRequestMessage(HttpMethod.Get, path);
                if (i % 2 == 0)
                {
                    request.Headers.TryAddWithoutValidation("Accept-Encoding", "br, gzip");
                }
                try
                {
                    using var response = await client.SendAsync(request);
                    var body = await response.Content.ReadAsStringAsync();
                    var revision = response.Headers.TryGetValues("X-Content-Revision", out var values) ? values.Single() : "(none)";
                    var expected = path == "/" ? $"<p>{revision}</p>" : Repeat(revision, path == "/large.txt" ? 600 * 1024 : 40 * 1024);
                    if (response.StatusCode != HttpStatusCode.OK || body != expected)
                    {
                        failures.Enqueue($"{path}: {(int)response.StatusCode}, revision {revision}, body of {body.Length} chars starting '{body[..Math.Min(20, body.Length)]}'");
                    }
                    seen.AddOrUpdate(revision, 1, (_, n) => n + 1);
                    Interlocked.Increment(ref responses);
                }
                catch (Exception e)
                {
                    failures.Enqueue($"{path}: {e.GetType().Name}: {e.Message}");
                }
            }
        }

        var clients = Enumerable.Range(0, 8).Select(worker => Task.Run(() => ClientLoop(worker))).ToArray();
        for (var swap = 1; swap <= 100; swap++)
        {
            await Task.Delay(10);
            site.Publish(Revisions[swap % Revisions.Length]);
        }
        swapping.Cancel();
        await Task.WhenAll(clients);

        Assert.Empty(failures);
        Assert.True(responses >= 100, $"only {responses} responses during the swaps");
        Assert.True(seen.Count >= 2, $"responses named only {string.Join(", ", seen.Keys)}");
    }

    private static string Repeat(string revision, int length)
    {
        var line = revision + "\n";
        var text = new StringBuilder(length + line.Length);
        while (text.Length < length)
        {
            text.Append(line);
        }
        return text.ToString(0, length);
    }
}
