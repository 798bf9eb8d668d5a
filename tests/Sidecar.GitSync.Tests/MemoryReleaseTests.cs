using System.Runtime.CompilerServices;
using Sidecar.GitSync.Sync;

namespace Sidecar.GitSync.Tests;

/// <summary>What a sync that published does to give memory back, so an idle sidecar does not sit at its peak.</summary>
[Trait("Category", "Unit")]
public sealed class MemoryReleaseTests
{
    [Fact]
    public void TheManagedHeapIsDecommittedAndTheCHeapTrimmed()
    {
        var before = LeaveGarbage();

        var trimmed = MemoryRelease.GiveBack();

        var after = GC.GetGCMemoryInfo(GCKind.FullBlocking).TotalCommittedBytes;
        Assert.True(after < before - (128 << 20), $"committed {before >> 20} MB before, {after >> 20} MB after");
        Assert.Equal(OperatingSystem.IsLinux(), trimmed);
    }

    // The garbage a snapshot leaves: large buffers, no longer referenced once this returns. Returns the committed size.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long LeaveGarbage()
    {
        var buffers = new List<byte[]>();
        for (var i = 0; i < 64; i++)
        {
            var buffer = new byte[4 << 20];
            Array.Fill(buffer, (byte)i);
            buffers.Add(buffer);
        }
        // A collection while they are still referenced, so the committed size counts them.
        GC.Collect();
        var committed = GC.GetGCMemoryInfo().TotalCommittedBytes;
        GC.KeepAlive(buffers);
        return committed;
    }
}
