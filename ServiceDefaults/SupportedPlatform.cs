using System.Runtime.InteropServices;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The operating systems a service runs on. The services call the C library directly (rename, link, statx, ...), so on
/// another system they would fail at the first such call, mid-sync or mid-request; this refuses at start instead.
/// </summary>
public static class SupportedPlatform
{
    public const string Linux = "Linux";
    public const string MacOS = "macOS";
    public const string Windows = "Windows";

    /// <summary>The running operating system, by the name the refusal gives it.</summary>
    public static string Current { get; } =
        OperatingSystem.IsLinux() ? Linux
        : OperatingSystem.IsMacOS() ? MacOS
        : OperatingSystem.IsWindows() ? Windows
        : RuntimeInformation.OSDescription;

    /// <summary>Null when <paramref name="platform"/> is one of <paramref name="supported"/>; otherwise the message that refuses it.</summary>
    /// <param name="service">The service's name, as its executable is named.</param>
    /// <param name="platform">The operating system to judge (<see cref="Current"/> at start).</param>
    /// <param name="supported">The operating systems the service runs on.</param>
    /// <param name="calls">What the service calls that the others lack, for the message.</param>
    public static string? Refusal(string service, string platform, IReadOnlyCollection<string> supported, string calls)
    {
        if (supported.Contains(platform, StringComparer.Ordinal))
        {
            return null;
        }
        return $"error: {service} does not run on {platform}; it runs on {string.Join(" and ", supported)} (x64 and arm64), "
            + $"as it calls the C library directly ({calls}). Run its container image, or run it on Linux "
            + "(on Windows: WSL). See docs/development.md, \"Supported platforms\".";
    }

    /// <summary>Ends the process with exit code 1 and the refusal on standard error when this operating system is not supported.</summary>
    public static void EnsureOrExit(string service, string calls, params string[] supported)
    {
        if (Refusal(service, Current, supported, calls) is { } refusal)
        {
            Console.Error.WriteLine(refusal);
            // Before the host is built: nothing is running yet that an orderly shutdown would stop.
            Environment.Exit(1);
        }
    }
}
