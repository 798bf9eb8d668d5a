namespace Sidecar.StaticWeb.Files;

/// <summary>What a request path names in one resolved revision.</summary>
public enum SiteLookupKind
{
    /// <summary>A file, served from <see cref="SiteLookup.File"/>.</summary>
    File,
    /// <summary>A directory asked for without its trailing slash: redirect.</summary>
    DirectoryWithoutSlash,
    /// <summary>A directory with no index file, at <see cref="SiteLookup.DirectoryPath"/>.</summary>
    DirectoryWithoutIndex,
    /// <summary>Nothing servable: missing, outside the revision, or of an unknown type.</summary>
    NotFound,
}

public readonly record struct SiteLookup(SiteLookupKind Kind, FileEntry? File = null, string? DirectoryPath = null)
{
    public static readonly SiteLookup NotFound = new(SiteLookupKind.NotFound);
}
