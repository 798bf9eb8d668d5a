using System.Globalization;
using System.Text.RegularExpressions;

namespace Sidecar.GitSync.CommandLine;

/// <summary>Reads durations the way git-sync's Go flags write them: <c>10s</c>, <c>1m30s</c>, <c>500ms</c>, <c>2h</c>.</summary>
public static partial class GoDuration
{
    [GeneratedRegex(@"\G(?<value>\d+(\.\d+)?)(?<unit>ns|us|µs|ms|s|m|h)")]
    private static partial Regex Part();

    public static bool TryParse(string text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        text = text.Trim();
        if (text.Length == 0)
        {
            return false;
        }
        if (text == "0")
        {
            return true;
        }
        var position = 0;
        double ticks = 0;
        while (position < text.Length)
        {
            var match = Part().Match(text, position);
            if (!match.Success)
            {
                return false;
            }
            var value = double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture);
            ticks += value * match.Groups["unit"].Value switch
            {
                "ns" => TimeSpan.TicksPerMicrosecond / 1000.0,
                "us" or "µs" => TimeSpan.TicksPerMicrosecond,
                "ms" => TimeSpan.TicksPerMillisecond,
                "s" => TimeSpan.TicksPerSecond,
                "m" => TimeSpan.TicksPerMinute,
                _ => TimeSpan.TicksPerHour,
            };
            position += match.Length;
        }
        duration = TimeSpan.FromTicks((long)ticks);
        return true;
    }

    public static string Format(TimeSpan duration) =>
        duration.TotalMilliseconds < 1000 && duration.Milliseconds != 0 ? $"{duration.TotalMilliseconds:0}ms"
        : duration.TotalSeconds % 60 != 0 || duration.TotalSeconds < 60 ? $"{duration.TotalSeconds:0.###}s"
        : duration.TotalMinutes % 60 != 0 || duration.TotalMinutes < 60 ? $"{duration.TotalMinutes:0}m"
        : $"{duration.TotalHours:0}h";
}
