using FluentAssertions;
using Incrt.Energy;
using Xunit;

namespace Incrt.Tests.Energy;

public class EnergyCalibrationTests
{
    [Theory]
    [InlineData(new[] { 3.0 }, 3.0)]
    [InlineData(new[] { 5.0, 1.0, 4.0 }, 4.0)]
    [InlineData(new[] { 4.0, 1.0, 3.0, 10.0 }, 3.5)]
    [InlineData(new[] { 2.0, 2.0, 100.0, 2.0, -1.0 }, 2.0)]
    public void Median_is_the_middle_value_or_the_mean_of_the_two_middle_values(double[] values, double expected) =>
        EnergyCalibration.Median(values).Should().Be(expected);

    [Fact]
    public void Gamma0_is_the_median_of_the_first_N_norms_and_later_norms_are_ignored()
    {
        var calibration = new EnergyCalibration();
        calibration.Batches.Should().Be(16);
        // Norms 1..16 in scrambled order: median = (8 + 9) / 2.
        var norms = Enumerable.Range(1, 16).Select(i => (double)((i * 7) % 16 + 1)).ToArray();
        norms.Distinct().Should().HaveCount(16);
        for (int i = 0; i < 15; i++) calibration.Add(norms[i]).Should().BeFalse();
        FluentActions.Invoking(() => calibration.Gamma0).Should().Throw<InvalidOperationException>();
        calibration.Add(norms[15]).Should().BeTrue();
        calibration.Add(1e9).Should().BeTrue();
        calibration.Collected.Should().Be(16);
        calibration.Gamma0.Should().Be(8.5);
    }

    [Fact]
    public void Default_thresholds_are_a_tenth_of_Gamma0_then_half_and_a_hundredth_of_theta()
    {
        var calibration = new EnergyCalibration(3);
        calibration.Add(30);
        calibration.Add(10);
        calibration.Add(20);
        var t = calibration.Thresholds();
        t.ThetaW.Should().BeApproximately(2.0, 1e-15);
        t.PhiW.Should().BeApproximately(1.0, 1e-15);
        t.PhiG.Should().BeApproximately(0.02, 1e-15);
    }

    [Fact]
    public void Overrides_replace_defaults_and_phi_defaults_follow_an_overridden_theta()
    {
        var t = EnergyThresholds.FromGamma0(20, thetaW: 4);
        t.Should().Be(new EnergyThresholds(4, 2, 0.04));
        EnergyThresholds.FromGamma0(20, phiW: 0.7, phiG: 0.3).Should().Be(new EnergyThresholds(2, 0.7, 0.3));
    }

    [Theory]
    [InlineData(0, double.NaN)]
    [InlineData(0, double.PositiveInfinity)]
    [InlineData(0, 0.0)]
    [InlineData(0, -1.0)]
    [InlineData(1, double.NaN)]
    [InlineData(1, 0.0)]
    [InlineData(2, double.NegativeInfinity)]
    [InlineData(2, -0.5)]
    public void Invalid_thresholds_throw_naming_the_argument(int which, double bad)
    {
        var names = new[] { "ThetaW", "PhiW", "PhiG" };
        var values = new[] { 1.0, 0.5, 0.01 };
        values[which] = bad;
        FluentActions.Invoking(() => new EnergyThresholds(values[0], values[1], values[2]))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be(names[which]);

        var ok = new EnergyThresholds(1, 0.5, 0.01);
        Action viaWith = which switch
        {
            0 => () => _ = ok with { ThetaW = bad },
            1 => () => _ = ok with { PhiW = bad },
            _ => () => _ = ok with { PhiG = bad },
        };
        viaWith.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be(names[which]);

        var overrideNames = new[] { "thetaW", "phiW", "phiG" };
        Action viaFactory = which switch
        {
            0 => () => EnergyThresholds.FromGamma0(10, thetaW: bad),
            1 => () => EnergyThresholds.FromGamma0(10, phiW: bad),
            _ => () => EnergyThresholds.FromGamma0(10, phiG: bad),
        };
        viaFactory.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be(overrideNames[which]);
    }

    [Fact]
    public void Bad_calibration_inputs_throw_naming_the_argument()
    {
        FluentActions.Invoking(() => EnergyThresholds.FromGamma0(double.NaN)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("gamma0");
        FluentActions.Invoking(() => EnergyThresholds.FromGamma0(0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("gamma0");
        FluentActions.Invoking(() => new EnergyCalibration(0)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("batches");
        var calibration = new EnergyCalibration(2);
        FluentActions.Invoking(() => calibration.Add(double.NaN)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("frobeniusNorm");
        FluentActions.Invoking(() => calibration.Add(-1)).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("frobeniusNorm");
        calibration.Collected.Should().Be(0);
        FluentActions.Invoking(() => EnergyCalibration.Median(Array.Empty<double>())).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("values");
    }
}
