namespace Sidecar.GitSync.Git;

/// <summary>How a repository URL is shown in logs, errors and traces: never with a credential in it.</summary>
public static class RepositoryUrl
{
    /// <summary>
    /// The repo URL without its query and user-info, either of which may carry credentials, so it can be logged. An
    /// ssh:// URL keeps its user name: it says which account the key is for, and is no secret (git@...).
    /// </summary>
    public static string ForLogs(string repo)
    {
        if (!Uri.TryCreate(repo, UriKind.Absolute, out var uri) || (uri.UserInfo.Length == 0 && uri.Query.Length == 0))
        {
            return repo;
        }
        return uri.Scheme == "ssh" && uri.UserInfo.Length > 0
            ? new UriBuilder(uri) { UserName = uri.UserInfo.Split(':')[0], Password = "", Query = "" }.Uri.ToString()
            : uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);
    }
}
