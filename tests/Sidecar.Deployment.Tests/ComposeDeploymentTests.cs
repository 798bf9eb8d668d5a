using System.Text.RegularExpressions;
using Xunit.Abstractions;
using YamlDotNet.RepresentationModel;

namespace Sidecar.Deployment.Tests;

/// <summary>
/// The generated Compose file run for real, under Docker (docker-compose 1.29) and under podman-compose, with
/// the images the SDK published and the sidecar syncing a git server on this machine.
/// </summary>
[Trait("Category", "Deployment")]
public sealed class ComposeDeploymentTests(ITestOutputHelper output) : DeploymentTest(output)
{
    [DeploymentFact]
    public Task TheComposeFileRunsUnderDocker() => RunAsync("docker-compose", Infrastructure.Docker);

    [DeploymentFact]
    public Task TheComposeFileRunsUnderPodmanCompose() => RunAsync("podman-compose", "podman");

    private async Task RunAsync(string compose, string engine)
    {
        var folder = Publish("publish-compose");
        var file = Path.Combine(folder, "docker-compose.yaml");
        var port = FreePort();
        PrepareForThisMachine(folder, file, port, Site.Url);
        // The images as setup.sh last published them (Compose would run an older copy it already has). podman
        // does not take 127.0.0.1 as a plain-HTTP registry by default.
        foreach (var repository in new[] { "sidecar-gitsync", "sidecar-staticweb" })
        {
            Command.Run(engine, engine == "podman" ? ["pull", "-q", "--tls-verify=false", Image(repository)] : ["pull", "-q", Image(repository)]);
        }

        string Container(string service) => $"{Project}_{service}_1";
        string Logs() => string.Concat(new[] { "sync", "web" }.Select(s =>
            $"--- {s}:\n{Command.TryRun(engine, ["logs", "--tail", "40", Container(s)]).Output}"));
        var site = $"http://127.0.0.1:{port}";
        try
        {
            Command.Run(compose, ["-p", Project, "-f", file, "up", "-d"], folder, timeout: TimeSpan.FromMinutes(5));
            var first = await WaitForPageAsync(site, "v1", TimeSpan.FromMinutes(2), Logs);
            Output.WriteLine($"{compose}: the site was served {first.TotalSeconds:F1} s after up");

            // The status port is not published: the test reaches it on the container's address, as `web` does.
            var address = Command.Run(engine, ["inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", Container("sync")])
                .Split(' ', StringSplitOptions.RemoveEmptyEntries).First();
            await PushAndSyncNowAsync(site, $"http://{address}:8081", Logs);

            // The server keeps serving what is published while the sidecar is gone.
            Command.Run(engine, ["kill", Container("sync")]);
            await Site.CommitAsync("v4", ("index.html", "<h1>v4</h1>"));
            for (var i = 0; i < 8; i++)
            {
                await WaitForPageAsync(site, "v3", TimeSpan.FromSeconds(2), Logs);
                await Task.Delay(250);
            }
            // Started again, the sidecar takes the published revision as it finds it and syncs on.
            Command.Run(engine, ["start", Container("sync")]);
            var resumed = await WaitForPageAsync(site, "v4", Period + SyncAllowance, Logs);
            Output.WriteLine($"{compose}: the restarted sidecar published the next push after {resumed.TotalSeconds:F1} s");

            // Every line both services logged, through syncs, webhooks and POST /sync with and without the secret: no secret in any.
            var everything = string.Concat(new[] { "sync", "web" }.Select(s => Command.TryRun(engine, ["logs", Container(s)]) is var l ? l.Output : ""));
            Assert.Contains("Published", everything, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(WebhookSecret, everything);
            Assert.DoesNotContain(RevisionWebhookSecret, everything);
        }
        finally
        {
            var down = Command.TryRun(compose, ["-p", Project, "-f", file, "down", "-v"], folder, timeout: TimeSpan.FromMinutes(3));
            Output.WriteLine($"{compose} down -v: exit {down.ExitCode}");
        }
        // Nothing of the project is left: containers, volumes, networks.
        Assert.DoesNotContain(Project, Command.Run(engine, ["ps", "-a", "--format", "{{.Names}}"]));
        Assert.DoesNotContain(Project, Command.Run(engine, ["volume", "ls", "--format", "{{.Name}}"]));
        if (engine == "podman")
        {
            // podman-compose 1.0.3 (Debian 12) leaves the network it made; docs/deployment.md gives the command that removes it.
            Assert.Contains($"{Project}_default", Command.Run(engine, ["network", "ls", "--format", "{{.Name}}"]));
            Command.Run(engine, ["network", "rm", $"{Project}_default"]);
        }
        Assert.DoesNotContain(Project, Command.Run(engine, ["network", "ls", "--format", "{{.Name}}"]));
    }

    /// <summary>
    /// Two changes for a shared test machine, and only these: the host port of the site is a free one (8080 may
    /// be taken), and <c>.env</c> holds the values the test knows for the variables the sidecar reads its repository
    /// URL and webhook secret from (the publish step writes the other secrets' values there, as asked).
    /// </summary>
    private static void PrepareForThisMachine(string folder, string file, int port, string repo)
    {
        var text = File.ReadAllText(file);
        var published = new Regex(@"^(\s*-\s*['""]?)\d+(:8080['""]?\s*)$", RegexOptions.Multiline);
        Assert.Single(published.Matches(text));
        File.WriteAllText(file, published.Replace(text, m => $"{m.Groups[1].Value}{port}{m.Groups[2].Value}"));

        var yaml = new YamlStream();
        yaml.Load(new StringReader(text));
        var services = (YamlMappingNode)((YamlMappingNode)yaml.Documents[0].RootNode)["services"];
        var sync = services.Children.Values.Cast<YamlMappingNode>()
            .Single(s => ((YamlScalarNode)s["image"]).Value!.Contains("sidecar-gitsync", StringComparison.Ordinal));
        var environment = (YamlMappingNode)sync["environment"];
        var values = new Dictionary<string, string>();
        foreach (var (name, value) in new[] { ("GITSYNC_REPO", repo), ("GITSYNC_WEBHOOK_SECRET", WebhookSecret) })
        {
            // A value read from a variable gets the test's value; a literal one is already the test's.
            if (environment.Children.TryGetValue(new YamlScalarNode(name), out var node)
                && Regex.Match(((YamlScalarNode)node).Value!, @"^\$\{(\w+)\}$") is { Success: true } variable)
            {
                values[variable.Groups[1].Value] = value;
            }
        }
        var env = Path.Combine(folder, ".env");
        var lines = File.Exists(env) ? File.ReadAllLines(env).Where(l => !values.Keys.Any(k => l.StartsWith(k + "=", StringComparison.Ordinal))) : [];
        File.WriteAllLines(env, [.. lines, .. values.Select(v => $"{v.Key}={v.Value}")]);
    }
}
