namespace Sidecar.DemoOrigin;

/// <summary>
/// The bare repository the demo origin serves. Created on first start from the bundled sample
/// site; kept across restarts so commits pushed to it stay.
/// </summary>
public static class DemoRepository
{
    /// <summary>Creates <paramref name="bareRepository"/> with one commit of <paramref name="seedFolder"/>, unless it exists.</summary>
    public static async Task EnsureSeededAsync(string bareRepository, string seedFolder, string branch = "main")
    {
        if (File.Exists(Path.Combine(bareRepository, "HEAD")))
        {
            return;
        }
        if (!Directory.Exists(seedFolder))
        {
            throw new DirectoryNotFoundException(
                $"the sample site '{seedFolder}' is missing: set DemoOrigin:SeedFolder to a folder to publish");
        }
        await CreateBareAsync(bareRepository, branch);
        await CommitFolderAsync(bareRepository, seedFolder, "Seed the demo site");
    }

    /// <summary>Creates an empty bare repository that accepts pushes over smart HTTP.</summary>
    public static async Task CreateBareAsync(string bareRepository, string branch = "main")
    {
        Directory.CreateDirectory(bareRepository);
        await GitCli.RunAsync(bareRepository, "init", "--quiet", "--bare", "--initial-branch=" + branch, ".");
        // Pushes are allowed without an authenticated user: the origin listens on loopback only.
        await GitCli.RunAsync(bareRepository, "config", "http.receivepack", "true");
        await GitCli.RunAsync(bareRepository, "config", "uploadpack.allowReachableSHA1InWant", "true");
        await GitCli.RunAsync(bareRepository, "config", "uploadpack.allowFilter", "true");
    }

    /// <summary>Commits the whole content of <paramref name="folder"/> onto the bare repository's HEAD branch.</summary>
    public static async Task<string> CommitFolderAsync(string bareRepository, string folder, string message)
    {
        var gitDir = "--git-dir=" + Path.GetFullPath(bareRepository);
        var workTree = "--work-tree=" + Path.GetFullPath(folder);
        await GitCli.RunAsync(folder, gitDir, workTree, "add", "--all", ".");
        await GitCli.RunAsync(folder, gitDir, workTree, "commit", "--quiet", "--allow-empty", "-m", message);
        return await GitCli.RunAsync(folder, gitDir, "rev-parse", "HEAD");
    }
}
