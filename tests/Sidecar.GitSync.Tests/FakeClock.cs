using Microsoft.Extensions.Time.Testing;

namespace Sidecar.GitSync.Tests;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that starts at the real time and tells which waits are armed on it, so a test
/// advances the clock once the sidecar has started the wait it means to end (a period, a backoff, a timeout).
/// </summary>
public sealed class FakeClock() : FakeTimeProvider(DateTimeOffset.UtcNow)
{
    private readonly Lock gate = new();
    private readonly List<Wait> waits = [];

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var wait = new Wait(this);
        Arm(wait, dueTime, period);
        wait.Inner = base.CreateTimer(s =>
        {
            Fired(wait);
            callback(s);
        }, state, dueTime, period);
        return wait;
    }

    /// <summary>True when something waits on this clock for <paramref name="delay"/>, armed and not yet over.</summary>
    public bool IsWaiting(TimeSpan delay)
    {
        lock (gate)
        {
            return waits.Any(w => w.Delay == delay);
        }
    }

    /// <summary>Waits (in real time, for the sidecar's work) until something waits <paramref name="delay"/> on this clock; returns what is left of it.</summary>
    public async Task<TimeSpan> WhenWaitingAsync(TimeSpan delay, string because, int seconds = 20)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        while (true)
        {
            var now = GetUtcNow();
            lock (gate)
            {
                var armed = waits.Where(w => w.Delay == delay).ToList();
                if (armed.Count > 0)
                {
                    return armed.Min(w => w.Due) - now;
                }
            }
            Assert.True(DateTime.UtcNow < deadline, $"within {seconds} s, a wait of {delay} on the clock: {because}");
            await Task.Delay(10);
        }
    }

    /// <summary>Once something waits <paramref name="delay"/> on this clock, advances the clock to its end.</summary>
    public async Task AdvanceAsync(TimeSpan delay, string because)
    {
        Advance(await WhenWaitingAsync(delay, because));
    }

    /// <summary>Ends the sync loop's period, then waits until the sync it starts has ended (the loop waits its period again).</summary>
    public async Task NextPeriodAsync(TimeSpan period)
    {
        await AdvanceAsync(period, "the loop waits its period");
        await WhenWaitingAsync(period, "the sync at the end of the period ends and the loop waits again");
    }

    // The time is read outside the lock: the fake clock takes its own lock, and runs timer callbacks.
    private void Arm(Wait wait, TimeSpan dueTime, TimeSpan period)
    {
        var now = GetUtcNow();
        lock (gate)
        {
            waits.Remove(wait);
            if (dueTime != Timeout.InfiniteTimeSpan)
            {
                wait.Delay = dueTime;
                wait.Period = period;
                wait.Due = now + dueTime;
                waits.Add(wait);
            }
        }
    }

    private void Fired(Wait wait)
    {
        var now = GetUtcNow();
        lock (gate)
        {
            if (wait.Period != Timeout.InfiniteTimeSpan && wait.Period != TimeSpan.Zero)
            {
                wait.Delay = wait.Period;
                wait.Due = now + wait.Period;
            }
            else
            {
                waits.Remove(wait);
            }
        }
    }

    private void Disarm(Wait wait)
    {
        lock (gate)
        {
            waits.Remove(wait);
        }
    }

    private sealed class Wait(FakeClock clock) : ITimer
    {
        public ITimer Inner { get; set; } = null!;

        public TimeSpan Delay { get; set; }

        public TimeSpan Period { get; set; }

        public DateTimeOffset Due { get; set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            clock.Arm(this, dueTime, period);
            return Inner.Change(dueTime, period);
        }

        public void Dispose()
        {
            clock.Disarm(this);
            Inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            clock.Disarm(this);
            return Inner.DisposeAsync();
        }
    }
}
