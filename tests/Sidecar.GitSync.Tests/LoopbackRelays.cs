using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Sidecar.GitSync.Tests;

/// <summary>
/// Relays on loopback for transport tests: <see cref="Https"/> puts TLS with a self-signed certificate in front of a
/// plain-HTTP port (an https origin git would refuse without http.sslVerify=false); <see cref="ConnectProxy"/> is an
/// HTTP proxy that answers CONNECT and relays to one port, counting the tunnels it opened.
/// </summary>
public sealed class LoopbackRelay : IAsyncDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource stop = new();
    private readonly Func<NetworkStream, CancellationToken, Task<Stream?>> accept;
    private readonly int targetPort;
    private readonly Task accepting;
    private int tunnels;

    private LoopbackRelay(int targetPort, Func<NetworkStream, CancellationToken, Task<Stream?>> accept)
    {
        this.targetPort = targetPort;
        this.accept = accept;
        listener.Start();
        accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

    /// <summary>Connections relayed to the target.</summary>
    public int Tunnels => Volatile.Read(ref tunnels);

    public static LoopbackRelay Https(int targetPort)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var selfSigned = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var certificate = X509CertificateLoader.LoadPkcs12(selfSigned.Export(X509ContentType.Pfx), null);
        return new LoopbackRelay(targetPort, async (client, token) =>
        {
            var tls = new SslStream(client);
            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate }, token);
            return tls;
        });
    }

    public static LoopbackRelay ConnectProxy(int targetPort) => new(targetPort, async (client, token) =>
    {
        // Read the request head byte by byte, so nothing after it is consumed.
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal) && await client.ReadAsync(one, token) == 1)
        {
            head.Append((char)one[0]);
        }
        if (!head.ToString().StartsWith("CONNECT ", StringComparison.Ordinal))
        {
            await client.WriteAsync("HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n"u8.ToArray(), token);
            return null;
        }
        await client.WriteAsync("HTTP/1.1 200 Connection established\r\n\r\n"u8.ToArray(), token);
        return client;
    });

    private async Task AcceptAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        try
        {
            using (client)
            using (var target = new TcpClient())
            {
                var front = await accept(client.GetStream(), stop.Token);
                if (front is null)
                {
                    return;
                }
                Interlocked.Increment(ref tunnels);
                await target.ConnectAsync(IPAddress.Loopback, targetPort, stop.Token);
                var back = target.GetStream();
                await Task.WhenAny(front.CopyToAsync(back, stop.Token), back.CopyToAsync(front, stop.Token));
                await front.DisposeAsync();
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or AuthenticationException or ObjectDisposedException)
        {
            // A client that gave up (such as one refusing the certificate) ends only its own relay.
        }
    }

    public async ValueTask DisposeAsync()
    {
        stop.Cancel();
        listener.Stop();
        await accepting;
        stop.Dispose();
    }
}
