using System.Runtime.InteropServices;

namespace Sidecar.GitSync.Tests;

/// <summary>test_e2e.sh's sync_on_signal cases, with the real process and a real SIGHUP.</summary>
[Trait("Category", "Process")]
public sealed class SignalTests : IAsyncLifetime
{
    private const int SigHup = 1;
    private SyncTestBed bed = null!;

    public async Task InitializeAsync() => bed = await SyncTestBed.StartAsync();

    public async Task DisposeAsync() => await bed.DisposeAsync();

    [Theory]
    [InlineData("SIGHUP")]
    [InlineData("HUP")]
    [InlineData("1")]
    public async Task TheSignalStartsASyncNow(string flag)
    {
        var first = await bed.Repository.CommitAsync("one", ("index.html", "one"));
        using var sidecar = SidecarProcess.Start(
            ["--repo", bed.Repository.Url, "--root", bed.Root.Path, "--link", "current", "--period", "1h", "--sync-on-signal", flag]);
        await Eventually.HoldsAsync(() => bed.LinkTarget == $".worktrees/{first}", "the first sync publishes");
        var second = await bed.Repository.CommitAsync("two", ("index.html", "two"));

        Assert.Equal(0, kill(sidecar.Id, SigHup));

        await Eventually.HoldsAsync(() => bed.LinkTarget == $".worktrees/{second}", "the signal starts a sync");
        Assert.False(sidecar.HasExited, sidecar.Output);
    }

    // DllImport, not LibraryImport: the test project does not allow unsafe code.
    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}
