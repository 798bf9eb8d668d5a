using Sidecar.GitSync;
using Sidecar.GitSync.CommandLine;
using Sidecar.GitSync.Git;
using Sidecar.GitSync.Sync;

SupportedPlatform.EnsureOrExit("Sidecar.GitSync", "rename, link, umask, poll", SupportedPlatform.Linux, SupportedPlatform.MacOS);

// Run by the ssh script, between libgit2 and ssh (see SshNegotiationFilter).
if (args is [SshNegotiationFilter.Argument])
{
    SshNegotiationFilter.RunOnStandardStreams();
    return 0;
}

var commandLine = GitSyncCommandLine.Parse(args, Environment.GetEnvironmentVariable);
if (commandLine.ShowVersion)
{
    Console.Out.WriteLine(GitSyncCommandLine.Version);
    return 0;
}
if (commandLine.ShowHelp || commandLine.ShowManual)
{
    Console.Out.Write(GitSyncCommandLine.HelpText());
    return 0;
}
if (commandLine.Errors.Count > 0)
{
    foreach (var error in commandLine.Errors)
    {
        Console.Error.WriteLine($"error: {error}");
    }
    Console.Error.WriteLine("Run with --help to list the flags.");
    return 2;
}

if (commandLine.Options.AddUser && PasswdEntry.EnsureForCurrentUser() is { } addUserError)
{
    // As git-sync: a user that cannot be added ends the process with 1.
    Console.Error.WriteLine($"error: {addUserError}");
    return 1;
}
SshTransport.TakeOverEnvironment(commandLine.Options);
await using var app = GitSyncApp.Build(commandLine.Options);
if (commandLine.Options.OneTime)
{
    return await GitSyncApp.RunOnceAsync(app);
}
var status = app.Services.GetRequiredService<SyncStatus>();
await app.RunAsync();
// Non-zero when the loop gave up after --max-failures consecutive failures.
return status.ExitCode;
