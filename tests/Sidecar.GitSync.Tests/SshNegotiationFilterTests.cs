using System.Text;
using Sidecar.GitSync.Git;

namespace Sidecar.GitSync.Tests;

/// <summary>The bytes the ssh script's filter passes on: libgit2 1.8's repeated shallow request left out, all else unchanged.</summary>
[Trait("Category", "Unit")]
public sealed class SshNegotiationFilterTests
{
    private const string Wants = "0032want 1111111111111111111111111111111111111111\n000ddeepen 1\n0000";
    private const string Have = "0032have 2222222222222222222222222222222222222222\n";

    [Fact]
    public void TheRepeatedShallowRequestIsLeftOut()
    {
        Assert.Equal(Wants + Have + "0009done\n", Filter(Wants + Wants + Have + "0009done\n"));
    }

    [Fact]
    public void ARequestThatIsNotRepeatedPassesUnchanged()
    {
        Assert.Equal(Wants + Have + "0009done\n", Filter(Wants + Have + "0009done\n"));
    }

    [Fact]
    public void ARequestWithoutDeepenPassesUnchanged()
    {
        const string full = "0032want 1111111111111111111111111111111111111111\n0000";
        Assert.Equal(full + full + "0009done\n", Filter(full + full + "0009done\n"));
    }

    [Fact]
    public void APartialRepeatIsPassedOn()
    {
        var partial = Wants[..20];
        Assert.Equal(Wants + partial, Filter(Wants + partial));
    }

    private static string Filter(string input)
    {
        using var output = new MemoryStream();
        SshNegotiationFilter.Run(new MemoryStream(Encoding.ASCII.GetBytes(input)), output);
        return Encoding.ASCII.GetString(output.ToArray());
    }
}
