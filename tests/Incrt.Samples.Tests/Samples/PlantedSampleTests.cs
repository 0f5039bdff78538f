using FluentAssertions;
using Incrt.Models;
using Incrt.Planted;
using Incrt.Samples.Common;
using Incrt.Tasks.Planted;
using Incrt.Tests.Data;
using Xunit;
using static TorchSharp.torch;

namespace Incrt.Tests.Samples;

/// <summary>The planted-task sample: command line, knee rule, the knee on a tiny configuration, and the --quick run.</summary>
public class PlantedSampleTests
{
    private static PlantedSettings Parse(params string[] args)
    {
        PlantedSettings? captured = null;
        var error = new StringWriter();
        int code = SampleCommandLine.Invoke(PlantedCommandLine.Create(s => { captured = s; return 0; }, error), args, new StringWriter(), error);
        code.Should().Be(0, error.ToString());
        return captured!;
    }

    [Fact]
    public void No_options_give_the_full_sweep_and_options_override_the_quick_preset()
    {
        var s = Parse();
        s.Families.Should().Equal(PlantedFamily.OffsetRetrieval, PlantedFamily.SegmentRetrieval);
        s.Ks.Should().Equal(1, 2, 3, 4, 6, 8);
        s.Seeds.Should().Equal(1, 2, 3);
        s.Out.Should().Be("runs/planted");
        var q = Parse("--quick", "--k", "3", "--seeds", "9", "--family", "segment", "--workers", "2", "--steps", "10");
        q.Quick.Should().BeTrue();
        q.Ks.Should().Equal(3);
        q.Seeds.Should().Equal(9);
        q.Families.Should().Equal(PlantedFamily.SegmentRetrieval);
        q.Workers.Should().Be(2);
        q.Steps.Should().Be(10);
        q.Out.Should().Be("runs/planted-quick");
        s.IncrtStartHeads(4).Should().Be(1, "INCRT grows from one head by default");
        Parse("--incrt-start", "2").IncrtStartHeads(4).Should().Be(8);
    }

    [Theory]
    [InlineData("--k 13", "--length")]
    [InlineData("--segment-size 1 --family segment", "--segment-size")]
    [InlineData("--length 0", "--length")]
    [InlineData("--steps -5", "--steps")]
    [InlineData("--k 0", "--k")]
    [InlineData("--values 1", "--values")]
    [InlineData("--family nope", "--family")]
    [InlineData("--lr -1", "--lr")]
    [InlineData("--probe-every 0", "--probe-every")]
    [InlineData("--prune-every -1", "--prune-every")]
    [InlineData("--prune-probe-heads -1", "--prune-probe-heads")]
    [InlineData("--max-prune-every -1", "--max-prune-every")]
    [InlineData("--probe-examples 0", "--probe-examples")]
    public void Bad_input_exits_2_with_one_error_naming_the_option_and_writes_nothing(string args, string option)
    {
        using var dir = new TempDirectory();
        var outDir = Path.Combine(dir.Path, "out");
        var error = new StringWriter();
        int code = PlantedApp.Run(args.Split(' ').Append("--out").Append(outDir).ToArray(), new StringWriter(), error);
        code.Should().Be(2);
        error.ToString().Should().StartWith("error:").And.Contain(option);
        Directory.Exists(outDir).Should().BeFalse();
    }

    [Fact]
    public void Knee_is_the_first_head_count_reaching_the_threshold_and_sharpness_looks_one_head_below()
    {
        var curve = new Dictionary<int, double> { [1] = 0.02, [2] = 0.40, [3] = 0.99, [4] = 0.995, [5] = 0.96 };
        KneeAnalysis.Knee(curve, 0.97).Should().Be(3);
        KneeAnalysis.IsSharp(curve, 3, 0.05).Should().BeTrue();
        KneeAnalysis.IsFlatAfter(curve, 3, 0.97).Should().BeFalse("H = 5 falls below the threshold");
        var soft = new Dictionary<int, double> { [1] = 0.95, [2] = 0.98 };
        KneeAnalysis.IsSharp(soft, KneeAnalysis.Knee(soft, 0.97)!.Value, 0.05).Should().BeFalse();
        KneeAnalysis.Knee(new Dictionary<int, double> { [1] = 0.5 }, 0.97).Should().BeNull();
        KneeAnalysis.Correlation(new double[] { 1, 2, 3 }, new double[] { 2, 4, 6 }).Should().BeApproximately(1, 1e-12);
        KneeAnalysis.Correlation(new double[] { 1, 2, 3 }, new double[] { 5, 5, 5 }).Should().Be(double.NaN);
    }

    [Fact]
    public void Multi_output_classifier_returns_one_logit_row_per_read_out()
    {
        manual_seed(1);
        using var model = new IncrtMultiOutputClassifier(new IncrtModelOptions(10, 6, DModel: 16, HeadDim: 4, Dropout: 0, Classes: 7), outputs: 3);
        using var ids = randint(2, 10, new long[] { 5, 6 }, dtype: ScalarType.Int64);
        using var logits = model.forward(ids);
        logits.shape.Should().Equal(5, 3, 7);
        FluentActions.Invoking(() => new IncrtMultiOutputClassifier(new IncrtModelOptions(10, 6), outputs: 0))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("outputs");
    }

    [Fact]
    public void Two_offsets_need_two_heads_one_head_scores_far_lower()
    {
        set_num_threads(1);
        var s = new PlantedSettings().WithQuickPreset();
        var task = PlantedTask.Create(s.Task(PlantedFamily.OffsetRetrieval, 2, seed: 1));
        var one = PlantedTraining.Run(s, task, 1, 1, null, CPU);
        var two = PlantedTraining.Run(s, task, 1, 2, null, CPU);
        two.Accuracy.Should().BeGreaterThan(0.9);
        one.Accuracy.Should().BeLessThan(two.Accuracy - 0.3, "one head mixes the two offsets' tokens");
        one.ReadoutAccuracy.Should().BeLessThan(0.8);
    }

    [Fact]
    public void Quick_run_writes_results_with_a_runs_array_knee_and_grown_heads()
    {
        using var dir = new TempDirectory();
        var log = new StringWriter();
        int code = PlantedApp.Run(new[] { "--quick", "--out", dir.Path }, log, new StringWriter());
        code.Should().Be(0, log.ToString());
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.Path, "results.json")));
        var runs = json.RootElement.GetProperty("runs").EnumerateArray().ToList();
        runs.Should().HaveCount(2);
        foreach (var run in runs)
        {
            run.GetProperty("family").GetString().Should().Be("offset");
            int k = run.GetProperty("k").GetInt32();
            run.GetProperty("seed").GetInt32().Should().Be(1);
            run.GetProperty("fixedHeadAccuracy").EnumerateObject().Select(p => int.Parse(p.Name)).Should().Equal(Enumerable.Range(1, 2 * k));
            run.GetProperty("minimalHeads").GetInt32().Should().Be(k, "the quick runs are long enough to show the knee at K");
            run.GetProperty("finalHeads").GetInt32().Should().BeGreaterThanOrEqualTo(1);
            run.GetProperty("accuracy").GetDouble().Should().BeGreaterThan(0.5, "far above chance (1/64 per read-out)");
        }
        json.RootElement.GetProperty("summary").GetProperty("Runs").GetInt32().Should().Be(2);
        File.Exists(Path.Combine(dir.Path, "knee.png")).Should().BeTrue();
        File.ReadAllText(Path.Combine(dir.Path, "knee.md")).Should().Contain("| offset | 2 |");
    }
}
