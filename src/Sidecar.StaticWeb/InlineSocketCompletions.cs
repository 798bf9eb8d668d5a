namespace Sidecar.StaticWeb;

/// <summary>
/// The runtime's half of inline scheduling: socket completions run on the epoll thread instead of
/// being queued to the thread pool. The runtime reads only the environment variable, once, when
/// the first socket starts an asynchronous operation; Kestrel's transport options are configured
/// before it binds, so setting it there is in time for the server's sockets.
/// </summary>
public static class InlineSocketCompletions
{
    public const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>Turns it on, unless the environment already says either way.</summary>
    public static void EnableUnlessSet()
    {
        if (Environment.GetEnvironmentVariable(Variable) is null)
        {
            Environment.SetEnvironmentVariable(Variable, "1");
        }
    }
}
