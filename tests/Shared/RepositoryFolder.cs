namespace Sidecar.Tests;

/// <summary>The repository's root folder (the one holding Sidecar.sln), found from the test assembly's folder.</summary>
public static class RepositoryFolder
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Sidecar.sln")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException($"no Sidecar.sln above {AppContext.BaseDirectory}");
    }
}
