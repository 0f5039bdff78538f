using FluentAssertions;
using Incrt.Benchmarks;
using Incrt.Samples.Common;
using Xunit;

namespace Incrt.Tests.Benchmarks;

/// <summary>The benchmark app's System.CommandLine parser: options map to <see cref="BenchmarkSettings"/>, bad values
/// exit 2 naming the option.</summary>
public class BenchmarkCommandLineTests
{
    private static BenchmarkSettings Parse(params string[] args)
    {
        BenchmarkSettings? captured = null;
        var error = new StringWriter();
        int code = SampleCommandLine.Invoke(BenchmarkCommandLine.Create(s => { captured = s; return 0; }), args, new StringWriter(), error);
        code.Should().Be(0, error.ToString());
        return captured!;
    }

    [Fact]
    public void No_options_mean_every_case_with_the_mode_defaults()
    {
        var s = Parse();
        s.Should().BeEquivalentTo(new BenchmarkSettings(false, false, [], [], null, null, Path.Combine("artifacts", "bench"), Controllers: []));
    }

    [Fact]
    public void Every_option_maps_to_its_setting()
    {
        var s = Parse("--tiny", "--case", "train,surgery", "--case", "e2e", "--threads", "1,2", "--steps", "50", "--heads", "1,4", "--out", "x", "--device", "cuda:1",
            "--controllers", "energy,loss", "--d-model", "512,128", "--batch", "64", "--data", "dd");
        s.Tiny.Should().BeTrue();
        s.Quick.Should().BeTrue("--tiny implies --quick");
        s.Cases.Should().Equal("train", "surgery", "e2e");
        s.Threads.Should().Equal(1, 2);
        s.SoakSteps.Should().Be(50);
        s.Heads.Should().Equal(1, 4);
        s.Out.Should().Be("x");
        s.Device.Should().Be("cuda:1");
        s.Controllers.Should().Equal("energy", "loss");
        s.DModels.Should().Equal(512, 128);
        s.Batch.Should().Be(64);
        s.Data.Should().Be("dd");
        Parse("--quick").Should().Match<BenchmarkSettings>(q => q.Quick && !q.Tiny);
    }

    [Theory]
    [InlineData("--case", "nope")]
    [InlineData("--case", "train,nope")]
    [InlineData("--threads", "0")]
    [InlineData("--threads", "a")]
    [InlineData("--steps", "0")]
    [InlineData("--steps", "many")]
    [InlineData("--heads", "1,x")]
    [InlineData("--d-model", "0")]
    [InlineData("--d-model", "512,x")]
    [InlineData("--batch", "0")]
    [InlineData("--data", "no-such-data-folder")]
    [InlineData("--controllers", "paper")]
    [InlineData("--controllers", "loss,nope")]
    [InlineData("--device", "gpu")]
    [InlineData("--device", "cuda:x")]
    public void A_bad_value_exits_2_with_a_message_naming_the_option(string option, string value)
    {
        var error = new StringWriter();
        BenchmarkApp.Run([option, value], new StringWriter(), error).Should().Be(2);
        error.ToString().Should().Contain(option).And.Contain(value);
        error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().ContainSingle(l => l.StartsWith("error:"));
    }

    [Fact]
    public void Cuda_on_a_machine_without_it_exits_2_naming_the_device_option()
    {
        if (TorchSharp.torch.cuda.is_available()) return;   // the case only exists without CUDA
        var error = new StringWriter();
        BenchmarkApp.Run(["--device", "cuda", "--tiny", "--case", "surgery"], new StringWriter(), error).Should().Be(2);
        error.ToString().Should().StartWith("error: --device cuda").And.Contain("CUDA is not available");
    }

    [Fact]
    public void Help_lists_every_option()
    {
        var help = new StringWriter();
        BenchmarkApp.Run(["--help"], help).Should().Be(0);
        foreach (var option in new[] { "--quick", "--tiny", "--case", "--threads", "--steps", "--heads", "--d-model", "--batch", "--data", "--controllers", "--device", "--out" })
            help.ToString().Should().Contain(option);
        help.ToString().Should().Contain("soak").And.Contain("e2e");
    }
}
