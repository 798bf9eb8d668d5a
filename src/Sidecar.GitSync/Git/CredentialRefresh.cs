using System.Buffers;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Sidecar.GitSync.CommandLine;
using Sidecar.GitSync.Telemetry;

namespace Sidecar.GitSync.Git;

/// <summary>A user name and password got at run time (from <c>--askpass-url</c> or a GitHub App) for the host of <c>--repo</c>.</summary>
public sealed record RefreshedCredential(string Username, string Password);

/// <summary>
/// What git-sync does before each sync to refresh credentials: <c>--askpass-url</c> is asked every time (one second at
/// most, no redirects, 200 only); a GitHub App's installation token is minted again when it has under 30 seconds left.
/// A failure fails the sync ("credential refresh failed"), so the next sync tries again. The result is offered for
/// URLs on the host of <c>--repo</c>, ahead of <c>--username</c> and <c>--credential</c>.
/// </summary>
public sealed partial class CredentialRefresh(GitSyncOptions options, GitSyncTelemetry telemetry, TimeProvider timeProvider, ILogger<CredentialRefresh> logger) : IDisposable
{
    private static readonly TimeSpan AskPassTimeout = TimeSpan.FromSeconds(1);
    private readonly HttpClient client = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });
    private DateTimeOffset gitHubTokenExpiry = DateTimeOffset.MinValue;

    public bool Any => options.AskPassUrl.Length > 0 || options.UsesGitHubApp;

    /// <summary>Refreshes the credentials of <c>--repo</c> if a source is configured; a failure throws a <see cref="SyncException"/>.</summary>
    public void Refresh(CancellationToken cancellationToken)
    {
        if (options.AskPassUrl.Length > 0)
        {
            try
            {
                options.RefreshedCredential = AskPass(cancellationToken);
                telemetry.RecordAskPass(succeeded: true);
            }
            catch (Exception e) when (e is HttpRequestException or SyncException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                telemetry.RecordAskPass(succeeded: false);
                throw new SyncException($"credential refresh failed: {Describe(e)}: check that --askpass-url '{RepositoryUrl.ForLogs(options.AskPassUrl)}' answers 200 with username= and password= lines", e);
            }
        }
        if (options.UsesGitHubApp && gitHubTokenExpiry < timeProvider.GetUtcNow().AddSeconds(30))
        {
            try
            {
                (options.RefreshedCredential, gitHubTokenExpiry) = GitHubAppToken(cancellationToken);
                telemetry.RecordGitHubAppTokenRefresh(succeeded: true);
            }
            catch (Exception e) when (e is HttpRequestException or SyncException or JsonException or CryptographicException or ArgumentException or IOException
                or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                telemetry.RecordGitHubAppTokenRefresh(succeeded: false);
                throw new SyncException($"credential refresh failed: GitHub App token: {Describe(e)}: check --github-app-* and --github-base-url", e);
            }
        }
    }

    private static string Describe(Exception e) => e is OperationCanceledException ? "no answer within 1s" : e.Message;

    // GET the URL; the answer is git credential lines: username=... and password=...; other lines are ignored.
    private RefreshedCredential AskPass(CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(AskPassTimeout, timeProvider);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        using var response = client.Send(new HttpRequestMessage(HttpMethod.Get, options.AskPassUrl), timeout.Token);
        using var reader = new StreamReader(response.Content.ReadAsStream(timeout.Token));
        var body = reader.ReadToEnd();
        if (response.StatusCode != HttpStatusCode.OK)
        {
            // The body of a refusal is the server's message, not a credential; it is shown short.
            throw new SyncException($"the askpass URL answered {(int)response.StatusCode} {response.ReasonPhrase} ({Shorten(body)})");
        }
        string username = "", password = "";
        foreach (var line in body.Split('\n'))
        {
            var equals = line.IndexOf('=');
            if (equals < 0)
            {
                continue;
            }
            var value = line[(equals + 1)..].TrimEnd('\r');
            switch (line[..equals])
            {
                case "username":
                    username = value;
                    break;
                case "password":
                    password = value;
                    break;
            }
        }
        LogAskPassRead(RepositoryUrl.ForLogs(options.Repo));
        return new RefreshedCredential(username, password);
    }

    // A JWT signed with the App's key (RS256, iss = client ID or app ID, 10 minutes), traded for an installation token.
    private (RefreshedCredential, DateTimeOffset) GitHubAppToken(CancellationToken cancellationToken)
    {
        var pem = options.GitHubAppPrivateKey.Length > 0 ? options.GitHubAppPrivateKey : File.ReadAllText(options.GitHubAppPrivateKeyFile);
        using var key = RSA.Create();
        key.ImportFromPem(pem);
        var now = timeProvider.GetUtcNow();
        var issuer = options.GitHubAppClientId.Length > 0 ? options.GitHubAppClientId : options.GitHubAppApplicationId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var header = Base64Url("""{"alg":"RS256","typ":"JWT"}"""u8);
        var claims = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(claims))
        {
            json.WriteStartObject();
            json.WriteString("iss", issuer);
            json.WriteNumber("exp", now.AddMinutes(10).ToUnixTimeSeconds());
            json.WriteNumber("iat", now.ToUnixTimeSeconds());
            json.WriteEndObject();
        }
        var unsigned = header + "." + Base64Url(claims.WrittenSpan);
        var signature = key.SignData(Encoding.ASCII.GetBytes(unsigned), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var url = options.GitHubBaseUrl.TrimEnd('/') + $"/app/installations/{options.GitHubAppInstallationId}/access_tokens";
        using var request = new HttpRequestMessage(HttpMethod.Post, url);
        request.Headers.Authorization = new("Bearer", unsigned + "." + Base64Url(signature));
        request.Headers.Accept.ParseAdd("application/vnd.github+json");
        request.Headers.UserAgent.ParseAdd("Sidecar.GitSync");
        using var response = client.Send(request, cancellationToken);
        using var reader = new StreamReader(response.Content.ReadAsStream(cancellationToken));
        var body = reader.ReadToEnd();
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw new SyncException($"{url} answered {(int)response.StatusCode} ({Shorten(body)})");
        }
        using var token = JsonDocument.Parse(body);
        var expires = token.RootElement.GetProperty("expires_at").GetDateTimeOffset();
        LogTokenMinted(RepositoryUrl.ForLogs(options.Repo), expires);
        // GitHub takes any non-empty user name with an installation token; git-sync sends "-".
        return (new RefreshedCredential("-", token.RootElement.GetProperty("token").GetString() ?? ""), expires);
    }

    private static string Base64Url(ReadOnlySpan<byte> bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string Shorten(string body)
    {
        var line = body.ReplaceLineEndings(" ").Trim();
        return line.Length > 200 ? line[..200] + "..." : line.Length == 0 ? "no body" : line;
    }

    public void Dispose() => client.Dispose();

    [LoggerMessage(Level = LogLevel.Debug, Message = "Credentials for {Repo} read from the askpass URL")]
    private partial void LogAskPassRead(string repo);

    [LoggerMessage(Level = LogLevel.Information, Message = "GitHub App installation token minted for {Repo}, valid until {Expiry:O}")]
    private partial void LogTokenMinted(string repo, DateTimeOffset expiry);
}
