using System.Net;
using System.Net.Sockets;
using Sidecar.GitSync.Sync;

namespace Sidecar.GitSync.Tests;

/// <summary>test_e2e.sh's timeout and init-phase cases: --sync-timeout, --max-failures, --init-period, --init-max-failures.</summary>
public sealed class TimeoutAndInitPhaseTests : IAsyncLifetime
{
    private SyncTestBed bed = null!;

    public async Task InitializeAsync() => bed = await SyncTestBed.StartAsync();

    public async Task DisposeAsync() => await bed.DisposeAsync();

    [Trait("Category", "InProcess")]
    [Fact]
    public async Task ARemoteThatNeverAnswersFailsAtTheSyncTimeout()
    {
        // Accepts connections and never answers: a git server that hangs.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var accepted = new List<Socket>();
        _ = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    accepted.Add(await silent.AcceptSocketAsync());
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }
        });
        var url = $"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}/site.git";
        var clock = new FakeClock();
        var timeout = TimeSpan.FromMinutes(2);

        var syncing = bed.SyncOnceAsync(bed.Options(o => { o.Repo = url; o.SyncTimeout = timeout; }), clock);
        await Eventually.HoldsAsync(() => accepted.Count > 0, "the sync connects to the silent remote");
        // The remote never answers: the sync ends only when the clock passes its timeout.
        Assert.False(syncing.IsCompleted);
        await clock.AdvanceAsync(timeout, "the sync runs within its timeout");
        var result = await syncing.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(SyncOutcome.Error, result.Outcome);
        Assert.Contains("did not finish within 2m: raise --sync-timeout", result.Error);
        // Its duration is measured on the same clock.
        Assert.Equal(timeout, result.Duration);
        silent.Stop();
        accepted.ForEach(s => s.Dispose());
    }

    [Trait("Category", "Process")]
    [Fact]
    public async Task TheProcessExitsOneWhenFailuresExceedMaxFailures()
    {
        var (exitCode, output) = await SidecarProcess.RunAsync(
            ["--repo", bed.Origin.BaseUrl + "/missing.git", "--root", bed.Root.Path, "--period", "50ms", "--max-failures", "2"]);

        Assert.Equal(1, exitCode);
        Assert.Contains("Giving up after 3 consecutive failed sync(s), more than --max-failures=2", output);
    }

    [Trait("Category", "Process")]
    [Fact]
    public async Task InitMaxFailuresGovernsThePhaseBeforeTheFirstSuccess()
    {
        var (exitCode, output) = await SidecarProcess.RunAsync(
            ["--repo", bed.Origin.BaseUrl + "/missing.git", "--root", bed.Root.Path, "--period", "1h", "--init-period", "50ms",
             "--max-failures", "-1", "--init-max-failures", "1"]);

        // A 1h period would never give a second attempt in time: the init period does.
        Assert.Equal(1, exitCode);
        Assert.Contains("Giving up after 2 consecutive failed sync(s), more than --init-max-failures=1", output);
    }

    [Trait("Category", "Process")]
    [Fact]
    public async Task TheInitPeriodRetriesFastUntilTheFirstSuccess()
    {
        using var sidecar = SidecarProcess.Start(
            ["--repo", bed.Origin.BaseUrl + "/later.git", "--root", bed.Root.Path, "--period", "1h", "--init-period", "50ms",
             "--max-failures", "-1", "--link", "current"]);
        await Task.Delay(300);
        var later = await bed.Origin.CreateRepositoryAsync("later");
        var sha = await later.CommitAsync("one", ("index.html", "one"));

        await Eventually.HoldsAsync(() => new FileInfo(bed.LinkPath).LinkTarget == $".worktrees/{sha}", "the init period retries until the repo exists");
    }
}
