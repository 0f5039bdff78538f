using System.CommandLine;
using FluentAssertions;
using Incrt.Samples.Common;
using Incrt.Training;
using Microsoft.Extensions.Logging;
using Spectre.Console;
using Xunit;
using Xunit.Abstractions;

namespace Incrt.Tests.Samples;

/// <summary>The samples' progress display: plain lines, the live Spectre.Console bar, and the --progress option.</summary>
public class ProgressDisplayTests(ITestOutputHelper output)
{
    private static TrainingProgress Report(int epoch, long step, double loss, int heads, double ratio) =>
        new(epoch, step, 10, loss, 12.5, [heads], [ratio], 1e-3);

    private static EvaluationResult Evaluation(long step, double accuracy) => new(step, accuracy, 0.5, new long[,] { { 3, 1 }, { 1, 3 } });

    /// <summary>A fake run: two reports, a validation result and a controller log entry in between.</summary>
    private static int FakeRun(SampleConsole console)
    {
        var logger = console.Logging!.CreateLogger("Incrt.Control");
        return console.Progress.Track("INCRT [run]", 10, 2, () =>
        {
            console.Progress.Report(Report(1, 5, 0.6931, 1, double.NaN), "line: epoch 1 step 5/10");
            console.Progress.Evaluated(Evaluation(5, 0.75), [1], "line: validation step 5: accuracy 0.7500");
            logger.LogInformation("INCRT step {Step} layer 0: Grew head 1 → 2 heads", 7);
            console.Progress.Report(Report(2, 9, 0.4321, 2, 0.83), "line: epoch 2 step 9/10");
            logger.LogInformation("INCRT step {Step} layer 0: Grew head 2 → 3 heads", 9);
            console.Progress.Evaluated(Evaluation(10, 0.875), [3], "line: validation step 10: accuracy 0.8750");
            return 42;
        });
    }

    [Fact]
    public void Plain_mode_writes_exactly_the_callers_lines_in_order()
    {
        var text = new StringWriter();
        using var console = SampleConsole.Plain(text, logging: false);
        var progress = console.Progress;

        int result = progress.Track("INCRT", 10, 2, () =>
        {
            progress.Report(Report(1, 5, 0.6931, 1, double.NaN), "epoch 1 step 5/10 loss 0.6931");
            progress.Evaluated(Evaluation(5, 0.75), [1], "validation step 5: accuracy 0.7500");
            progress.WriteLine("predicted heads 3");
            return 7;
        });

        result.Should().Be(7);
        console.Mode.Should().Be(ProgressMode.Plain);
        text.ToString().Should().Be(string.Join(Environment.NewLine,
            "epoch 1 step 5/10 loss 0.6931", "validation step 5: accuracy 0.7500", "predicted heads 3", ""));
    }

    [Fact]
    public void Rich_mode_renders_the_bar_the_final_state_and_the_log_and_validation_lines_above_it()
    {
        var text = new StringWriter();
        var ansi = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.Yes,
            Interactive = InteractionSupport.Yes,
            Out = new AnsiConsoleOutput(text),
        });
        using var console = SampleConsole.Rich(ansi);

        int result = FakeRun(console);
        console.Out.WriteLine("test set: accuracy 0.800");
        console.Out.Flush();

        result.Should().Be(42);
        console.Mode.Should().Be(ProgressMode.Rich);
        var rendered = text.ToString();
        output.WriteLine(rendered);
        rendered.Should().Contain("INCRT [run]", "the run name is escaped, not read as markup")
            .And.Contain("epoch 2/2")
            .And.Contain("loss 0.4321")
            .And.Contain("heads [3]", "the last evaluation's head count is the final state")
            .And.Contain("λmax/θw [0.83]")
            .And.Contain("val acc 87.5")
            .And.Contain("100%", "the bar completes when the run returns")
            .And.Contain("line: validation step 5: accuracy 0.7500", "validation lines are printed as normal lines")
            .And.Contain("info").And.Contain("Incrt.Control INCRT step 7 layer 0: Grew head 1 → 2 heads", "controller log lines go through the console")
            .And.Contain("Grew head 2 → 3 heads")
            .And.Contain("test set: accuracy 0.800")
            .And.NotContain("line: epoch", "training reports update the bar instead of printing lines");
        rendered.IndexOf("Grew head", StringComparison.Ordinal).Should()
            .BeLessThan(rendered.LastIndexOf("epoch 2/2", StringComparison.Ordinal), "the bar is redrawn below the log line");
    }

    [Fact]
    public void Rich_mode_rethrows_a_failing_run_and_can_track_the_next_one()
    {
        var text = new StringWriter();
        var ansi = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.Yes, Interactive = InteractionSupport.Yes, Out = new AnsiConsoleOutput(text) });
        var progress = new RichProgress(ansi);

        var act = () => progress.Track<int>("broken", 10, 1, () => throw new InvalidOperationException("boom"));

        act.Should().Throw<InvalidOperationException>().WithMessage("boom");
        progress.Track("baseline", 4, 1, () => { progress.Report(Report(1, 4, 0.25, 3, double.NaN), "unused"); return 0; });
        text.ToString().Should().Contain("baseline").And.Contain("heads [3]").And.Contain("λmax/θw [-]");
    }

    [Theory]
    [InlineData(new string[0], ProgressMode.Auto)]
    [InlineData(new[] { "--progress", "rich" }, ProgressMode.Rich)]
    [InlineData(new[] { "--progress", "PLAIN" }, ProgressMode.Plain)]
    [InlineData(new[] { "--progress", "auto" }, ProgressMode.Auto)]
    public void The_progress_option_parses_its_three_values(string[] args, ProgressMode expected)
    {
        var option = ProgressOption.Create();
        var root = new RootCommand { option };
        var parse = root.Parse(args);
        parse.Errors.Should().BeEmpty();
        parse.GetValue(option).Should().Be(expected);
    }

    [Theory]
    [InlineData("nope")]
    [InlineData("1")]
    public void A_bad_progress_value_is_a_usage_error_naming_the_option(string value)
    {
        var root = new RootCommand { ProgressOption.Create() };
        root.SetAction(_ => 0);
        var error = new StringWriter();

        SampleCommandLine.Invoke(root, ["--progress", value], new StringWriter(), error).Should().Be(SampleCommandLine.UsageErrorExitCode);
        error.ToString().Should().Contain("--progress").And.Contain(value).And.Contain("auto, rich or plain");
    }

    [Fact]
    public void The_sst2_app_rejects_a_bad_progress_value_with_exit_code_2_before_loading_data()
    {
        var error = new StringWriter();
        Incrt.Sst2.Sst2App.Run(["--progress", "nope", "--data", "/nonexistent"], new StringWriter(), error, consoleLogging: false).Should().Be(2);
        error.ToString().Should().Contain("--progress").And.Contain("nope");
    }

    [Theory]
    [InlineData(ProgressMode.Auto, false, true, ProgressMode.Rich)]
    [InlineData(ProgressMode.Auto, true, true, ProgressMode.Plain)]
    [InlineData(ProgressMode.Auto, false, false, ProgressMode.Plain)]
    [InlineData(ProgressMode.Plain, false, true, ProgressMode.Plain)]
    [InlineData(ProgressMode.Rich, true, false, ProgressMode.Rich)]
    public void Auto_means_rich_only_on_an_interactive_terminal_that_is_not_redirected(ProgressMode mode, bool redirected, bool interactive, ProgressMode expected)
    {
        ProgressOption.Resolve(mode, redirected, interactive).Should().Be(expected);
    }
}
