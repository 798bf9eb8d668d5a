using Microsoft.Extensions.Hosting;

namespace Sidecar.GitSync.Tests;

/// <summary>Each service refuses at start an operating system whose C library it cannot call, naming it and what is supported.</summary>
[Trait("Category", "Unit")]
public sealed class SupportedPlatformTests
{
    private static readonly string[] GitSyncPlatforms = [SupportedPlatform.Linux, SupportedPlatform.MacOS];
    private static readonly string[] StaticWebPlatforms = [SupportedPlatform.Linux];

    [Theory]
    [InlineData(SupportedPlatform.Linux)]
    [InlineData(SupportedPlatform.MacOS)]
    public void TheSidecarRunsOnLinuxAndMacOS(string platform)
    {
        Assert.Null(SupportedPlatform.Refusal("Sidecar.GitSync", platform, GitSyncPlatforms, "rename, link"));
    }

    [Fact]
    public void WindowsIsRefusedNamingItWhatIsSupportedAndWhy()
    {
        var refusal = SupportedPlatform.Refusal("Sidecar.GitSync", SupportedPlatform.Windows, GitSyncPlatforms, "rename, link");

        Assert.Equal(
            "error: Sidecar.GitSync does not run on Windows; it runs on Linux and macOS (x64 and arm64), as it calls the C library "
            + "directly (rename, link). Run its container image, or run it on Linux (on Windows: WSL). See docs/development.md, "
            + "\"Supported platforms\".",
            refusal);
    }

    [Theory]
    [InlineData(SupportedPlatform.MacOS)]
    [InlineData(SupportedPlatform.Windows)]
    [InlineData("FreeBSD 14.1-RELEASE")]
    public void TheWebServerRunsOnLinuxAlone(string platform)
    {
        var refusal = SupportedPlatform.Refusal("Sidecar.StaticWeb", platform, StaticWebPlatforms, "statx");

        Assert.NotNull(refusal);
        Assert.StartsWith($"error: Sidecar.StaticWeb does not run on {platform}; it runs on Linux (x64 and arm64)", refusal);
        Assert.Null(SupportedPlatform.Refusal("Sidecar.StaticWeb", SupportedPlatform.Linux, StaticWebPlatforms, "statx"));
    }

    [Fact]
    public void TheLinuxTheSuiteRunsOnIsNamedLinuxAndNotRefused()
    {
        Assert.Equal(SupportedPlatform.Linux, SupportedPlatform.Current);
        Assert.Null(SupportedPlatform.Refusal("Sidecar.StaticWeb", SupportedPlatform.Current, StaticWebPlatforms, "statx"));
    }
}
