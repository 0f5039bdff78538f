using FluentAssertions;
using Incrt.SarsCov2;
using Incrt.Samples.Common;
using Incrt.Tests.Data;
using Incrt.Tests.Data.SarsCov2;
using Microsoft.Extensions.Logging.Abstractions;
using Spectre.Console;
using Xunit;
using Xunit.Abstractions;

namespace Incrt.Tests.Samples;

/// <summary>The SARS-CoV-2 sample trains through <see cref="ClassifierExperiment"/> in both progress modes.</summary>
public class SampleProgressTests(ITestOutputHelper output)
{
    private static SarsCov2AppOptions Tiny(string outDir) => new()
    {
        PerClass = 20, MaxLength = 40, Epochs = 2, DModel = 16, HeadDim = 8, BatchSize = 8, Data = SarsCov2Data.Directory, Out = outDir,
    };

    [Fact]
    public void The_sarscov2_run_prints_plain_progress_lines_by_default_and_a_live_bar_with_a_rich_sink()
    {
        using var dir = new TempDirectory();
        var plain = new StringWriter();
        SarsCov2App.Run(Tiny(Path.Combine(dir.Path, "plain")), plain, new StringWriter(), NullLoggerFactory.Instance).Should().Be(0);
        plain.ToString().Should().Contain("epoch 1 step 5/20 loss").And.Contain("epoch 2 step 20/20 loss")
            .And.Contain("validation step 10: accuracy").And.Contain("predicted heads (layer 0, before training)");

        var report = new StringWriter();
        var rendered = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.Yes, Interactive = InteractionSupport.Yes, Out = new AnsiConsoleOutput(rendered),
        });
        SarsCov2App.Run(Tiny(Path.Combine(dir.Path, "rich")), report, new StringWriter(), NullLoggerFactory.Instance, new RichProgress(console))
            .Should().Be(0);
        output.WriteLine(rendered.ToString());
        rendered.ToString().Should().Contain("INCRT").And.Contain("epoch 2/2").And.Contain("100%").And.Contain("validation step 20: accuracy");
        report.ToString().Should().Contain("confusion matrix").And.NotContain("epoch 1 step", "training reports go to the bar");
    }
}
