using FluentAssertions;
using Incrt.Energy;
using Incrt.Samples.Common;
using Incrt.Synthetic;
using Xunit;

namespace Incrt.Tests.Samples;

/// <summary>The synthetic sweep's System.CommandLine parser: options map to <see cref="SweepSettings"/>, presets yield
/// to explicit options, bad values exit 2 naming the option.</summary>
public class SyntheticCommandLineTests
{
    private static SweepSettings Parse(params string[] args)
    {
        SweepSettings? captured = null;
        var error = new StringWriter();
        int code = SampleCommandLine.Invoke(SweepCommandLine.Create(s => { captured = s; return 0; }), args, new StringWriter(), error);
        code.Should().Be(0, error.ToString());
        return captured!;
    }

    [Fact]
    public void No_options_give_the_full_sweep()
    {
        var s = Parse();
        s.Ks.Should().Equal(1, 2, 4, 8, 16);
        s.Seeds.Should().Equal(1, 2, 3);
        s.Noises.Should().Equal(0.0, 0.1);
        s.Epochs.Should().Be(8);
        s.DModel.Should().Be(64);
        s.Out.Should().Be("runs/synthetic");
        s.Fixed.Should().BeTrue();
        s.Quick.Should().BeFalse();
        s.ThresholdMode.Should().Be(ThresholdMode.Relative);
        s.EstimatorMode.Should().Be(EstimatorMode.Exact);
    }

    [Fact]
    public void Every_option_maps_to_its_setting()
    {
        var s = Parse("--k", "2,8", "--seeds", "5", "7", "--noise", "0.05", "--epochs", "3", "--dmodel", "128", "--head-dim", "32",
            "--examples", "500", "--out", "runs/x", "--threads", "2", "--device", "auto", "--no-fixed", "--thresholds", "calibrated", "--estimator", "online", "--prune", "leaveoneout", "--prune-ratio", "0.9");
        s.Ks.Should().Equal(2, 8);
        s.Seeds.Should().Equal(5, 7);
        s.Noises.Should().Equal(0.05);
        s.Epochs.Should().Be(3);
        s.DModel.Should().Be(128);
        s.HeadDim.Should().Be(32);
        s.Examples.Should().Be(500);
        s.Out.Should().Be("runs/x");
        s.Threads.Should().Be(2);
        s.Device.Should().Be("auto");
        s.Fixed.Should().BeFalse();
        s.ThresholdMode.Should().Be(ThresholdMode.Calibrated);
        s.EstimatorMode.Should().Be(EstimatorMode.Online);
        s.Prune.Should().Be(PruneStatistic.LeaveOneOut);
        s.PruneRatio.Should().Be(0.9);
    }

    [Fact]
    public void Thresholds_accepts_the_positive_part_mode() =>
        Parse("--thresholds", "relativepositive").ThresholdMode.Should().Be(ThresholdMode.RelativePositive);

    [Fact]
    public void Presets_apply_first_and_explicit_options_win()
    {
        var quick = Parse("--quick");
        quick.Quick.Should().BeTrue();
        quick.Ks.Should().Equal(1, 4);
        quick.Seeds.Should().Equal(1);
        quick.Noises.Should().Equal(0.0);
        (quick.Epochs, quick.Examples, quick.DModel, quick.HeadDim, quick.Out).Should().Be((3, 2000, 32, 8, "runs/synthetic-quick"));

        var overridden = Parse("--quick", "--out", "elsewhere", "--epochs", "1");
        (overridden.Out, overridden.Epochs, overridden.DModel).Should().Be(("elsewhere", 1, 32));

        var fit = Parse("--fit");
        fit.Fit.Should().BeTrue();
        fit.Ks.Should().Equal(1, 4, 16);
        fit.Seeds.Should().Equal(100);
        fit.Fixed.Should().BeFalse();
        fit.Out.Should().Be("runs/synthetic-fit");
    }

    [Fact]
    public void A_large_K_grows_the_vocabulary()
    {
        Parse("--quick", "--k", "32").Vocabulary.Should().Be(3 + 2 * 32 + 32, "the quick vocabulary (48) is too small for 32 relations");
        Parse("--quick").Vocabulary.Should().Be(48);
    }

    [Theory]
    [InlineData("--k", "1,x")]
    [InlineData("--k", "0")]
    [InlineData("--seeds", "1.5")]
    [InlineData("--noise", "1.5")]
    [InlineData("--epochs", "0")]
    [InlineData("--dmodel", "wide")]
    [InlineData("--threads", "-1")]
    [InlineData("--thresholds", "nope")]
    [InlineData("--estimator", "nope")]
    [InlineData("--device", "gpu")]
    public void A_bad_value_exits_2_with_a_message_naming_the_option(string option, string value)
    {
        var error = new StringWriter();
        SyntheticApp.Run([option, value], new StringWriter(), error).Should().Be(2);
        error.ToString().Should().Contain(option).And.Contain(value);
    }

    [Fact]
    public void An_unknown_option_exits_2_and_help_lists_every_option()
    {
        var error = new StringWriter();
        SyntheticApp.Run(["--bogus"], new StringWriter(), error).Should().Be(2);
        error.ToString().Should().Contain("--bogus");

        var help = new StringWriter();
        SyntheticApp.Run(["--help"], help, new StringWriter()).Should().Be(0);
        foreach (var option in new[] { "--quick", "--fit", "--k", "--seeds", "--noise", "--epochs", "--dmodel", "--head-dim", "--examples",
                     "--out", "--threads", "--device", "--no-fixed", "--thresholds", "--estimator", "--prune", "--prune-ratio" })
            help.ToString().Should().Contain(option);
    }
}
