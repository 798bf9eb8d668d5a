namespace Sidecar.GitSync.Telemetry;

/// <summary>A cumulative histogram of sync durations for the Prometheus text exposition.</summary>
public sealed class DurationHistogram
{
    private readonly long[] buckets = new long[GitSyncTelemetry.DurationBuckets.Length];
    private long count;
    private double sum;

    public void Record(double seconds)
    {
        lock (buckets)
        {
            for (var i = 0; i < buckets.Length; i++)
            {
                if (seconds <= GitSyncTelemetry.DurationBuckets[i])
                {
                    buckets[i]++;
                }
            }
            count++;
            sum += seconds;
        }
    }

    public (long[] Buckets, long Count, double Sum) Read()
    {
        lock (buckets)
        {
            return ((long[])buckets.Clone(), count, sum);
        }
    }
}
