// What --verify-signatures adds to a sync: the time of RevisionSignatureVerifier.Verify on one commit (the call the
// sync makes between fetch and snapshot), per signature kind, beside `git verify-commit` on the same commit with the
// same trust files (git spawns ssh-keygen or gpg for it), in one run.
// Usage: Program REPO ALLOWED_SIGNERS OPENPGP_KEYS GNUPGHOME ITERATIONS NAME=SHA...
using System.Diagnostics;
using LibGit2Sharp;
using Sidecar.GitSync;
using Sidecar.GitSync.SignatureVerification;
using Sidecar.GitSync.CommandLine;

var (repository, allowedSigners, openPgpKeys, gnupgHome) = (args[0], args[1], args[2], args[3]);
var iterations = int.Parse(args[4], System.Globalization.CultureInfo.InvariantCulture);
var commits = args[5..].Select(a => a.Split('=')).Select(p => (Name: p[0], Sha: p[1])).ToList();
var options = new GitSyncOptions { VerifySignatures = SignatureVerificationMode.Enforce, AllowedSignersFile = allowedSigners, OpenPgpKeys = openPgpKeys };

Console.WriteLine($"{"commit",-16} {"verdict",-10} {"first ms",9} {"median ms",10} {"p95 ms",8} {"git verify-commit median ms",28} {"ratio",6}");
foreach (var (name, sha) in commits)
{
    using var store = new Repository(repository);
    // A new verifier, as at start: its first call also reads and parses the trust files.
    var verifier = new RevisionSignatureVerifier(options, TimeProvider.System);
    var clock = Stopwatch.StartNew();
    var verdict = verifier.Verify(store, sha, null);
    var first = clock.Elapsed.TotalMilliseconds;
    var times = new double[iterations];
    for (var i = 0; i < iterations; i++)
    {
        var start = Stopwatch.GetTimestamp();
        verifier.Verify(store, sha, null);
        times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }
    Array.Sort(times);
    var gitTimes = new double[Math.Max(5, iterations / 20)];
    for (var i = 0; i < gitTimes.Length; i++)
    {
        var start = Stopwatch.GetTimestamp();
        var git = new ProcessStartInfo("git", ["-c", "gpg.ssh.allowedSignersFile=" + allowedSigners, "verify-commit", sha])
        {
            WorkingDirectory = repository,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        git.Environment["GNUPGHOME"] = gnupgHome;
        using var process = Process.Start(git)!;
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        gitTimes[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }
    Array.Sort(gitTimes);
    var median = times[times.Length / 2];
    var gitMedian = gitTimes[gitTimes.Length / 2];
    Console.WriteLine($"{name,-16} {verdict.Name,-10} {first,9:F2} {median,10:F3} {times[(int)(times.Length * 0.95)],8:F3} {gitMedian,28:F1} {gitMedian / median,6:F0}");
}
