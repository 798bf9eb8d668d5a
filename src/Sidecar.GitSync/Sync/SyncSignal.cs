using System.Runtime.InteropServices;

namespace Sidecar.GitSync.Sync;

/// <summary>Reads <c>--sync-on-signal</c> as git-sync does: <c>SIGHUP</c>, <c>HUP</c> or <c>1</c>.</summary>
public static class SyncSignal
{
    // Linux signal numbers; PosixSignalRegistration takes raw numbers cast to PosixSignal.
    private static readonly Dictionary<string, int> Numbers = new(StringComparer.OrdinalIgnoreCase)
    {
        ["HUP"] = 1, ["INT"] = 2, ["QUIT"] = 3, ["USR1"] = 10, ["USR2"] = 12, ["ALRM"] = 14, ["TERM"] = 15,
        ["CONT"] = 18, ["TSTP"] = 20, ["TTIN"] = 21, ["TTOU"] = 22, ["WINCH"] = 28,
    };

    public static PosixSignal? TryParse(string text)
    {
        var name = text.Trim();
        if (int.TryParse(name, out var number))
        {
            return number is > 0 and < 32 ? ToPosix(number) : null;
        }
        if (name.StartsWith("SIG", StringComparison.OrdinalIgnoreCase))
        {
            name = name[3..];
        }
        return Numbers.TryGetValue(name, out number) ? ToPosix(number) : null;
    }

    // .NET's portable names are placeholders mapped per OS; other signals are passed as their raw Linux number.
    private static PosixSignal ToPosix(int number) => number switch
    {
        1 => PosixSignal.SIGHUP,
        2 => PosixSignal.SIGINT,
        3 => PosixSignal.SIGQUIT,
        15 => PosixSignal.SIGTERM,
        _ => (PosixSignal)number,
    };
}
