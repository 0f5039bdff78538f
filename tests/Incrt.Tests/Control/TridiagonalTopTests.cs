using FluentAssertions;
using Incrt.Control;
using Xunit;
using static TorchSharp.torch;

namespace Incrt.Tests.Control;

/// <summary><see cref="TridiagonalTop"/>: the host QL that reads Lanczos's Ritz values agrees with torch's eigh.</summary>
public class TridiagonalTopTests
{
    [Theory]
    [InlineData(1, 1ul)]
    [InlineData(2, 2ul)]
    [InlineData(7, 3ul)]
    [InlineData(36, 4ul)]
    [InlineData(64, 5ul)]
    public void Top_eigenvalue_and_last_eigenvector_component_equal_eigh(int m, ulong seed)
    {
        using var scope = NewDisposeScope();
        using var g = new TorchSharp.torch.Generator(seed);
        var alpha = randn(new long[] { m }, ScalarType.Float64, generator: g);
        var beta = rand(new long[] { Math.Max(m - 1, 1) }, ScalarType.Float64, generator: g).narrow(0, 0, m - 1);
        var t = diag(alpha);
        if (m > 1) t = t + diag(beta, 1) + diag(beta, -1);
        var (values, vectors) = linalg.eigh(t);

        var top = TridiagonalTop.Compute(alpha.data<double>().ToArray(), beta.data<double>().ToArray(), m);

        top.Should().NotBeNull();
        top!.Value.Theta.Should().BeApproximately(values[m - 1].item<double>(), 1e-12);
        Math.Abs(top.Value.LastComponent).Should().BeApproximately(Math.Abs(vectors[m - 1, m - 1].item<double>()), 1e-9);
    }

    [Fact]
    public void A_split_tridiagonal_reads_the_top_of_its_largest_block()
    {
        // β₂ = 0 splits T into [[1, 1], [1, 1]] (eigenvalues 0, 2) and [[5]]: the top is 5, a pure last unit vector.
        var top = TridiagonalTop.Compute(new[] { 1.0, 1.0, 5.0 }, new[] { 1.0, 0.0 }, 3)!.Value;
        top.Theta.Should().BeApproximately(5, 1e-14);
        Math.Abs(top.LastComponent).Should().BeApproximately(1, 1e-14);
        var first = TridiagonalTop.Compute(new[] { 1.0, 1.0, -5.0 }, new[] { 1.0, 0.0 }, 3)!.Value;
        first.Theta.Should().BeApproximately(2, 1e-14);
        first.LastComponent.Should().Be(0, "the top eigenvector lives in the first block");
    }

    [Fact]
    public void Reads_only_the_first_m_entries_and_rejects_an_empty_matrix()
    {
        var top = TridiagonalTop.Compute(new[] { 3.0, 100.0 }, new[] { 0.0, 100.0 }, 1)!.Value;
        top.Theta.Should().Be(3);
        top.LastComponent.Should().Be(1);
        var act = () => TridiagonalTop.Compute(Array.Empty<double>(), Array.Empty<double>(), 0);
        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("m");
    }
}
