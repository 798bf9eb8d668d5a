using Microsoft.Extensions.Configuration;

namespace Aspire.Hosting.Deployment;

/// <summary>What a platform decides about a deployment, as opposed to what the app model says: read from <c>Sidecar:*</c> configuration.</summary>
/// <param name="Instance">Names and labels one copy of the app (<c>Sidecar:Instance</c>), so two copies can share a namespace.</param>
/// <param name="ImagePullSecret">The Secret the kubelet pulls images with (<c>Sidecar:ImagePullSecret</c>).</param>
/// <param name="WriteSecretValues">Write the secret parameters' values into files (mode 0600) instead of only the command that creates them (<c>Sidecar:WriteSecretValues</c>).</param>
/// <param name="GitCredentials"><c>password</c> or <c>ssh</c>: the repository's credentials come from a Secret mounted read-only, as git-sync takes them (<c>Sidecar:GitCredentials</c>).</param>
/// <param name="GitUsername">The user name that goes with a password file (<c>Sidecar:GitUsername</c>).</param>
/// <param name="ContentSizeLimit">The shared emptyDir's <c>sizeLimit</c> (<c>Sidecar:ContentSizeLimit</c>).</param>
/// <param name="TempSizeLimit">Each container's memory-backed <c>/tmp</c> <c>sizeLimit</c> (<c>Sidecar:TempSizeLimit</c>).</param>
public sealed record DeploymentSettings(
    string? Instance,
    string? ImagePullSecret,
    bool WriteSecretValues,
    GitCredentialSource GitCredentials,
    string? GitUsername,
    string ContentSizeLimit,
    string TempSizeLimit)
{
    /// <summary>Where a repository credentials Secret is mounted in the sidecar: git-sync's default for SSH keys.</summary>
    public const string GitSecretPath = "/etc/git-secret";

    public static DeploymentSettings From(IConfiguration configuration)
    {
        var credentials = configuration["Sidecar:GitCredentials"] switch
        {
            null or "" or "none" => GitCredentialSource.None,
            var v when v.Equals("password", StringComparison.OrdinalIgnoreCase) => GitCredentialSource.Password,
            var v when v.Equals("ssh", StringComparison.OrdinalIgnoreCase) => GitCredentialSource.Ssh,
            var v => throw new InvalidOperationException($"Sidecar:GitCredentials '{v}' is not known: use password (a token file) or ssh (a key and known_hosts)"),
        };
        var username = Optional(configuration["Sidecar:GitUsername"]);
        if (credentials == GitCredentialSource.Password && username is null)
        {
            throw new InvalidOperationException("Sidecar:GitCredentials=password needs the user name too: add --Sidecar:GitUsername=NAME (for a token, any name the host accepts, such as git)");
        }
        var writeValues = configuration["Sidecar:WriteSecretValues"] switch
        {
            null or "" => false,
            var v when bool.TryParse(v, out var b) => b,
            var v => throw new InvalidOperationException($"Sidecar:WriteSecretValues '{v}' is not true or false"),
        };
        return new DeploymentSettings(
            Optional(configuration["Sidecar:Instance"]),
            Optional(configuration["Sidecar:ImagePullSecret"]),
            writeValues,
            credentials,
            username,
            Optional(configuration["Sidecar:ContentSizeLimit"]) ?? "1Gi",
            Optional(configuration["Sidecar:TempSizeLimit"]) ?? "64Mi");
    }

    /// <summary>The name of a pod's objects: the main resource's name, after the instance when one is given.</summary>
    public string NameOf(SidecarPod pod) => Instance is null ? pod.Name : $"{Instance}-{pod.Name}";

    private static string? Optional(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}

public enum GitCredentialSource
{
    None,
    Password,
    Ssh,
}
