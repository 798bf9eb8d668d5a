namespace Sidecar.StaticWeb;

/// <summary>The server's settings, bound from the <c>StaticWeb</c> configuration section.</summary>
public sealed class StaticWebOptions
{
    public const string Section = "StaticWeb";

    /// <summary>The folder to serve; usually a symlink that the sidecar swaps (<c>--root</c>, <c>StaticWeb__Root</c>).</summary>
    public string Root { get; set; } = "";

    /// <summary>The file served for a directory.</summary>
    public string IndexFile { get; set; } = "index.html";
}
