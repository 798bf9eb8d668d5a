using Sidecar.StaticWeb.Compression;

namespace Sidecar.StaticWeb.Tests;

/// <summary>The encoder's output collected in pieces: handed over as one array of exactly what was written.</summary>
[Trait("Category", "Unit")]
public sealed class CompressedOutputTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(64 * 1024)]
    [InlineData(2 * 64 * 1024 + 7)]
    public void WritesOfAnySizeComeBackInOrderAtTheExactLength(int total)
    {
        var expected = Enumerable.Range(0, total).Select(i => (byte)(i * 7 % 253)).ToArray();
        using var output = new CompressedOutput();

        // Odd write sizes, so writes straddle the pieces' boundaries.
        var at = 0;
        for (var size = 1; at < total; size = size * 3 % 70_001 + 1)
        {
            var count = Math.Min(size, total - at);
            if (count % 2 == 0)
            {
                output.Write(expected.AsSpan(at, count));
            }
            else
            {
                output.Write(expected, at, count);
            }
            at += count;
        }

        Assert.Equal(total, output.Length);
        Assert.Equal(expected, output.ToArray());
    }
}
