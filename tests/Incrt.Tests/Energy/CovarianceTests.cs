using FluentAssertions;
using Incrt.Energy;
using TorchSharp;
using Xunit;
using static Incrt.Tests.Energy.EnergyTestMath;
using static TorchSharp.torch;

namespace Incrt.Tests.Energy;

public class CovarianceTests
{
    /// <summary>Loop oracle: mean over sequences with ≥ 1 real token of Σ_t x_t x_tᵀ / n_b.</summary>
    private static double[,] HandCovariance(double[,,] x, bool[,] padding)
    {
        int b = x.GetLength(0), t = x.GetLength(1), d = x.GetLength(2);
        var c = new double[d, d];
        int sequences = 0;
        for (int s = 0; s < b; s++)
        {
            int n = 0;
            var cs = new double[d, d];
            for (int k = 0; k < t; k++)
            {
                if (padding[s, k]) continue;
                n++;
                for (int i = 0; i < d; i++)
                    for (int j = 0; j < d; j++)
                        cs[i, j] += x[s, k, i] * x[s, k, j];
            }
            if (n == 0) continue;
            sequences++;
            for (int i = 0; i < d; i++)
                for (int j = 0; j < d; j++)
                    c[i, j] += cs[i, j] / n;
        }
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
                c[i, j] /= sequences;
        return c;
    }

    private static double[,,] RandomBatch(int b, int t, int d, Random rng)
    {
        var x = new double[b, t, d];
        for (int s = 0; s < b; s++) for (int k = 0; k < t; k++) for (int i = 0; i < d; i++) x[s, k, i] = Gaussian(rng);
        return x;
    }

    [Theory]
    [InlineData(ScalarType.Float64, 1e-12)]
    [InlineData(ScalarType.Float32, 1e-5)]
    public void Covariance_with_padding_equals_the_hand_computed_covariance_over_real_tokens(ScalarType dtype, double tolerance)
    {
        using var scope = NewDisposeScope();
        var rng = new Random(7);
        var x = RandomBatch(4, 6, 5, rng);
        var padding = new bool[4, 6];
        for (int k = 4; k < 6; k++) padding[0, k] = true;          // right padding
        padding[1, 0] = true; padding[1, 3] = true;                // scattered
        for (int k = 0; k < 6; k++) padding[3, k] = true;          // fully padded: left out of the mean
        // Garbage in padded positions must not leak in.
        x[0, 5, 2] = 1e6; x[3, 1, 1] = -1e6;

        var c = ResidualOperator.Covariance(tensor(x, dtype: dtype), tensor(padding));

        c.dtype.Should().Be(dtype);
        var expected = M(HandCovariance(x, padding));
        (MaxAbs(M(ToHost2D(c)) - expected) / MaxAbs(expected)).Should().BeLessThan(tolerance);
    }

    [Fact]
    public void Without_a_mask_and_for_a_single_sequence_every_token_counts()
    {
        using var scope = NewDisposeScope();
        var x = RandomBatch(3, 4, 5, new Random(8));
        var none = new bool[3, 4];
        var expected = M(HandCovariance(x, none));
        MaxAbs(M(ToHost2D(ResidualOperator.Covariance(tensor(x)))) - expected).Should().BeLessThan(1e-12);

        var single = tensor(x)[0];
        var expectedSingle = M(HandCovariance(x, new bool[,] { { false, false, false, false }, { true, true, true, true }, { true, true, true, true } }));
        MaxAbs(M(ToHost2D(ResidualOperator.Covariance(single))) - expectedSingle).Should().BeLessThan(1e-12);
        var singleMask = tensor(new[] { false, true, false, false });
        var expectedMasked = M(HandCovariance(x, new bool[,] { { false, true, false, false }, { true, true, true, true }, { true, true, true, true } }));
        MaxAbs(M(ToHost2D(ResidualOperator.Covariance(single, singleMask))) - expectedMasked).Should().BeLessThan(1e-12);
    }

    [Fact]
    public void Bad_inputs_are_rejected_naming_the_argument()
    {
        using var scope = NewDisposeScope();
        var x = randn(2, 3, 4);
        FluentActions.Invoking(() => ResidualOperator.Covariance(randn(4)))
            .Should().Throw<ArgumentException>().Where(e => e.ParamName == "x" && e.Message.Contains("(B, T, d)"));
        FluentActions.Invoking(() => ResidualOperator.Covariance(x, zeros(new long[] { 2, 4 }, ScalarType.Bool)))
            .Should().Throw<ArgumentException>().Where(e => e.ParamName == "keyPaddingMask" && e.Message.Contains("(2, 3)"));
        FluentActions.Invoking(() => ResidualOperator.Covariance(x, zeros(2, 3)))
            .Should().Throw<ArgumentException>().Where(e => e.ParamName == "keyPaddingMask" && e.Message.Contains("bool"));
        FluentActions.Invoking(() => ResidualOperator.Covariance(x, ones(new long[] { 2, 3 }, ScalarType.Bool)))
            .Should().Throw<ArgumentException>().Where(e => e.ParamName == "keyPaddingMask");
        FluentActions.Invoking(() => ResidualOperator.Covariance(zeros(new long[] { 2, 3, 4 }, ScalarType.Int64)))
            .Should().Throw<ArgumentException>().Where(e => e.ParamName == "x");
    }
}
