using Microsoft.Extensions.Options;

namespace Sidecar.StaticWeb.Tests;

/// <summary>Bad settings stop the server at start with a message that names the setting and the fix.</summary>
[Trait("Category", "InProcess")]
public sealed class OptionsValidationTests
{
    [Theory]
    [InlineData("StaticWeb:IndexFiles:0=../index.html", "StaticWeb:IndexFiles has '../index.html'")]
    [InlineData("StaticWeb:NotFoundPage=/etc/passwd", "StaticWeb:NotFoundPage is '/etc/passwd'")]
    [InlineData("StaticWeb:SpaFallback=.git/config", "StaticWeb:SpaFallback is '.git/config'")]
    [InlineData("StaticWeb:CacheSizeBytes=-1", "StaticWeb:CacheSizeBytes is -1")]
    [InlineData("StaticWeb:FingerprintPattern=[", "StaticWeb:FingerprintPattern '['")]
    [InlineData("StaticWeb:RequestTraceSampleRatio=1.5", "StaticWeb:RequestTraceSampleRatio is 1.5")]
    [InlineData("StaticWeb:RequestTraceSampleRatio=-0.1", "StaticWeb:RequestTraceSampleRatio is -0.1")]
    [InlineData("StaticWeb:RevisionCheck=sometimes", "StaticWeb:RevisionCheck is 'sometimes'")]
    [InlineData("StaticWeb:RevisionCheck=1", "StaticWeb:RevisionCheck is '1': use 'request'")]
    [InlineData("StaticWeb:RevisionCheckSeconds=0", "StaticWeb:RevisionCheckSeconds is 0")]
    [InlineData("StaticWeb:RequestHeadersTimeoutSeconds=0", "StaticWeb:RequestHeadersTimeoutSeconds is 0")]
    public async Task ABadSettingFailsTheStartNamingIt(string setting, string message)
    {
        using var root = new Sidecar.Tests.TempFolder();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartAsync("--root", root.Path, "--" + setting));

        Assert.Contains(message, error.Message);
    }

    [Fact]
    public async Task AMissingRootSaysHowToGiveIt()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartAsync());

        Assert.Contains("--root DIR", error.Message);
    }

    // Kestrel reads its limits from these settings, so a bad one may surface while building the app or while starting it.
    private static async Task StartAsync(params string[] args)
    {
        await using var app = StaticWebApp.Build(["--urls", "http://127.0.0.1:0", .. args]);
        await app.StartAsync();
        await app.StopAsync();
    }
}
