namespace Sidecar.StaticWeb.Tests;

/// <summary>
/// A corpus of hostile requests, sent over a raw socket so nothing normalises them on the way:
/// none may reach a file outside the served revision or a hidden one, and none may cause a 5xx.
/// </summary>
[Trait("Category", "InProcess")]
public sealed class HostileRequestTests : IAsyncLifetime
{
    // Text that only appears in files that must never be served.
    private static readonly string[] Secrets = ["root:x:0:0", "SECRET-DOT", "[core]", "OUTSIDE-REVISION", "OTHER-REVISION", "ref: refs/heads"];

    private readonly SiteFixture site = new();

    public async Task InitializeAsync()
    {
        site.WriteRevision("rev1",
            ("index.html", "<h1>public</h1>"),
            ("docs/index.html", "<h1>docs</h1>"),
            ("docs/guide.txt", "guide"),
            (".env", "SECRET-DOT=1"),
            ("a/.env", "SECRET-DOT=2"),
            ("a/b/.hidden/x.txt", "SECRET-DOT=3"),
            (".git/config", "[core]"),
            (".git/HEAD", "ref: refs/heads/main"),
            (".well-known/x.txt", "SECRET-DOT=4"));
        site.WriteRevision("rev2", ("secret.txt", "OTHER-REVISION"));
        File.WriteAllText(site.Root.Combine("outside.txt"), "OUTSIDE-REVISION");
        Directory.CreateDirectory(site.Root.Combine("outside-dir"));
        File.WriteAllText(site.Root.Combine("outside-dir", "secret.txt"), "OUTSIDE-REVISION");
        var revision = site.Root.Combine(".worktrees", "rev1");
        File.CreateSymbolicLink(Path.Combine(revision, "escape.txt"), site.Root.Combine("outside.txt"));
        File.CreateSymbolicLink(Path.Combine(revision, "relative-escape.txt"), "../../outside.txt");
        File.CreateSymbolicLink(Path.Combine(revision, "passwd"), "/etc/passwd");
        File.CreateSymbolicLink(Path.Combine(revision, "escape-dir"), site.Root.Combine("outside-dir"));
        File.CreateSymbolicLink(Path.Combine(revision, "up"), "../..");
        File.CreateSymbolicLink(Path.Combine(revision, "other"), "../rev2");
        File.CreateSymbolicLink(Path.Combine(revision, "to-git.txt"), ".git/config");
        site.Publish("rev1");
        await site.StartAsync();
    }

    public async Task DisposeAsync()
    {
        // The temp folder's clean-up walks directories recursively; links that loop back up must go first.
        foreach (var link in new[] { "escape-dir", "up", "other" })
        {
            File.Delete(site.Root.Combine(".worktrees", "rev1", link));
        }
        await site.DisposeAsync();
    }

    public static TheoryData<string, string, string> Corpus()
    {
        // Method, request-target, extra header lines (a blank line then ends the head; after it, any body).
        var data = new TheoryData<string, string, string>();
        void Get(params string[] targets)
        {
            foreach (var target in targets)
            {
                data.Add("GET", target, "");
            }
        }

        // Hidden entries, plain and encoded.
        Get("/.git/config", "/.git/HEAD", "/.git/", "/.git", "/.env", "/a/.env", "/a/b/.hidden/x.txt", "/.well-known/x.txt",
            "/%2egit/config", "/%2Egit/config", "/%2e%67%69%74/config", "/a/%2eenv", "/a/%2Eenv", "/%2eenv", "/a/b/%2ehidden/x.txt",
            "/.git%2fconfig", "/.git%2Fconfig", "/%2egit%2fconfig", "/docs/../.env", "/docs/./../.git/config", "/./.env",
            "/docs/%2e%2e/.env", "/docs/%2e%2e/%2egit/config", "/.git/./config", "/.git//config", "//.git/config", "/.%67it/config");
        // Dot-dot in every spelling.
        Get("/../../etc/passwd", "/../outside.txt", "/a/../../outside.txt", "/..%2f..%2fetc/passwd", "/..%2F..%2Fetc%2Fpasswd",
            "/%2e%2e/%2e%2e/etc/passwd", "/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/%2E%2E/outside.txt", "/.%2e/outside.txt", "/%2e./outside.txt",
            "/%252e%252e/%252e%252e/etc/passwd", "/%252e%252e%252f%252e%252e%252fetc%252fpasswd", "/..%252f..%252fetc/passwd",
            "/%25%32%65%25%32%65/outside.txt", "/..;/outside.txt", "/...", "/..../outside.txt", "/....//....//etc/passwd",
            "/docs/..%2f..%2foutside.txt", "/docs/%2e%2e%2f%2e%2e%2foutside.txt", "/../.worktrees/rev2/secret.txt",
            "/%2e%2e/.worktrees/rev2/secret.txt", "/..%2f.worktrees%2frev2%2fsecret.txt");
        // Backslashes.
        Get("/..%5c..%5cetc%5cpasswd", "/docs%5c..%5c.env", "/%5c..%5c.env", "/..%5coutside.txt", "/docs%5C..%5C..%5Coutside.txt",
            "/%5c%5cserver%5cshare", "/..%255c..%255coutside.txt");
        // NUL and other control characters.
        Get("/index.html%00", "/index.html%00.txt", "/%00", "/%00/../.env", "/.env%00.html", "/docs%00/guide.txt", "/index%0d%0aX-Injected:%20yes",
            "/index.html%0a", "/%09.env", "/%7f");
        // Overlong and invalid UTF-8.
        Get("/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd", "/%c0%ae%c0%ae%c0%afetc%c0%afpasswd", "/%e0%80%ae%e0%80%ae/outside.txt",
            "/%c0%2e%c0%2e/outside.txt", "/%c1%9c..%c1%9coutside.txt", "/%f0%80%80%ae%f0%80%80%ae/outside.txt", "/%c0%af.env",
            "/%ff%fe/.env", "/%ed%a0%80", "/%c0", "/%e2%80", "/%u002e%u002e/outside.txt", "/%ef%bc%8e%ef%bc%8e/outside.txt",
            "/%e2%80%a5/outside.txt");
        // Windows drive, UNC and device forms.
        Get("/C:/Windows/win.ini", "/C:%5cWindows%5cwin.ini", "/c:", "/c:/", "/C%3a/Windows", "//server/share/file", "///etc/passwd",
            "//etc/passwd", "/%5c%5c%3f%5cC:%5c", "/CON", "/index.html::$DATA", "/index.html.", "/index.html%20", "/docs%2findex.html");
        // Symlinks that leave the revision.
        Get("/escape.txt", "/relative-escape.txt", "/passwd", "/escape-dir/secret.txt", "/escape-dir/", "/escape-dir", "/up/outside.txt",
            "/up/.worktrees/rev2/secret.txt", "/other/secret.txt", "/up/", "/to-git.txt");
        // Outside names that only look absolute, odd targets and percent soup.
        Get("/etc/passwd", "/proc/self/environ", "/%", "/%2", "/%zz", "/%%32%65%%32%65/outside.txt", "/index.html/", "/docs/guide.txt/..",
            "/index.html?../../etc/passwd", "/index.html?%2e%2e/.env", "/;/../.env", "/current/secret.txt", "/.worktrees/rev2/secret.txt",
            "/%2eworktrees/rev2/secret.txt");
        // Request-target forms other than origin-form.
        Get("http://127.0.0.1/../../etc/passwd", "http://evil.example/.env", "*", "..", "../outside.txt", "index.html", "\\..\\outside.txt");
        // Methods other than GET and HEAD.
        foreach (var method in new[] { "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND", "MKCOL", "FOO" })
        {
            data.Add(method, "/index.html", "Content-Length: 0\r\n");
        }
        data.Add("CONNECT", "127.0.0.1:80", "");
        data.Add("POST", "/_sidecar/revision", "Gitsync-Hash: ../../etc\r\nContent-Length: 0\r\n");
        data.Add("GET", "/_sidecar/revision", "");
        // Hostile headers.
        data.Add("GET", "/index.html", "Range: bytes=0-0," + string.Join(",", Enumerable.Range(1, 500).Select(i => $"{i}-{i}")) + "\r\n");
        data.Add("GET", "/index.html", "Range: bytes=99999999999999999999-\r\n");
        data.Add("GET", "/index.html", "Range: bytes=-99999999999999999\r\n");
        data.Add("GET", "/index.html", "Range: bytes=--1\r\n");
        data.Add("GET", "/index.html", "If-None-Match: " + new string(',', 4000) + "\r\n");
        data.Add("GET", "/index.html", "If-Modified-Since: not a date\r\n");
        data.Add("GET", "/index.html", "Accept-Encoding: br;q=nan, gzip;q=-1, *;q=0.0000001\r\n");
        data.Add("GET", "/index.html", "X-Big: " + new string('a', 40_000) + "\r\n");
        data.Add("GET", "/" + new string('a', 10_000), "");
        data.Add("GET", "/" + string.Concat(Enumerable.Repeat("../", 2000)) + "etc/passwd", "");
        data.Add("GET", "/.env", "Transfer-Encoding: chunked\r\n|5\r\nhello\r\n0\r\n\r\n");
        data.Add("POST", "/.git/config", "Content-Length: 5\r\n|hello");
        return data;
    }

    [Theory]
    [MemberData(nameof(Corpus))]
    public async Task AHostileRequestNeitherEscapesNorFails(string method, string target, string headers)
    {
        var body = headers.Contains('|') ? headers[(headers.IndexOf('|') + 1)..] : "";
        var (status, response) = await site.RawAsync(method, target, headers.Split('|')[0], body);

        Assert.InRange(status, 200, 499);
        foreach (var secret in Secrets)
        {
            Assert.DoesNotContain(secret, response);
        }
        Assert.DoesNotContain("X-Injected", response);
        if (method is "GET" && status == 200)
        {
            // Only site pages may come back whole: the public index, docs, or the guide.
            Assert.Matches("(<h1>public</h1>|<h1>docs</h1>|guide)", response);
        }
    }

    [Fact]
    public void TheCorpusHasAtLeastAHundredCases() => Assert.True(Corpus().Count >= 100, $"{Corpus().Count} cases");

    [Fact]
    public async Task TheSameServerStillServesTheSite()
    {
        var (status, response) = await site.RawAsync("GET", "/docs/guide.txt");

        Assert.Equal(200, status);
        Assert.EndsWith("guide", response);
    }
}
