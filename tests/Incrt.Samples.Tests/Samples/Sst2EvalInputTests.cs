using FluentAssertions;
using Incrt.Sst2;
using Incrt.Tests.Data;
using Xunit;

namespace Incrt.Tests.Samples;

/// <summary>SST-2 <c>--eval</c> and <c>--quick</c> input handling that does not need a trained model.</summary>
public class Sst2EvalInputTests
{
    [Fact]
    public void Eval_on_a_header_only_file_exits_2_naming_the_file_instead_of_printing_accuracy_NaN()
    {
        using var dir = new TempDirectory();
        var file = dir.File("empty.tsv", "sentence\tlabel\n");
        var log = new StringWriter();
        var err = new StringWriter();
        Sst2App.Run(["--eval", Path.Combine(dir.Path, "model.incrt"), "--data", file], log, err, consoleLogging: false).Should().Be(2);
        err.ToString().Should().StartWith("error:").And.Contain(file).And.Contain("no data rows");
        log.ToString().Should().NotContain("NaN");
    }

    [Theory]
    [InlineData("0,2")]
    [InlineData("1,x")]
    [InlineData(",")]
    public void A_bad_baseline_head_list_exits_2_naming_the_option(string value)
    {
        var err = new StringWriter();
        Sst2App.Run(["--baselines", "--baseline-heads", value], new StringWriter(), err, consoleLogging: false).Should().Be(2);
        err.ToString().Should().StartWith("error:").And.Contain("--baseline-heads").And.Contain(value);
    }

    [Theory]
    [InlineData("--token-dropout", "1")]
    [InlineData("--token-dropout", "-0.1")]
    [InlineData("--bag-of-words", "-0.5")]
    [InlineData("--bag-of-words", "Infinity")]
    [InlineData("--adversarial", "-1")]
    [InlineData("--adversarial", "NaN")]
    [InlineData("--embedding-std", "0")]
    [InlineData("--embedding-std", "NaN")]
    [InlineData("--probe-every", "0")]
    [InlineData("--probe-examples", "0")]
    [InlineData("--prune-every", "-3")]
    [InlineData("--trial-steps", "0")]
    public void A_numeric_option_out_of_range_exits_2_naming_the_option_before_reading_data(string option, string value)
    {
        var err = new StringWriter();
        Sst2App.Run([option, value, "--data", "no-such-folder"], new StringWriter(), err, consoleLogging: false).Should().Be(2);
        err.ToString().Trim().Should().StartWith("error: " + option).And.NotContain("\n");
    }
}
