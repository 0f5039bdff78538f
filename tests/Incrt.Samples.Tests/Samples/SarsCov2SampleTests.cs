using System.Diagnostics;
using System.Text.Json;
using FluentAssertions;
using Incrt.SarsCov2;
using Incrt.Samples.Common;
using Incrt.Tasks.Data.SarsCov2;
using Incrt.Tests.Data;
using Incrt.Tests.Data.SarsCov2;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;
using Xunit.Abstractions;

namespace Incrt.Tests.Samples;

public class SarsCov2SampleTests(ITestOutputHelper output)
{
    private static SarsCov2AppOptions Tiny(string outDir) => new()
    {
        Task = "voc5",
        PerClass = 20,
        MaxLength = 40,
        Epochs = 3,
        DModel = 16,
        HeadDim = 8,
        BatchSize = 8,
        LearningRate = 1e-2,
        Data = SarsCov2Data.Directory,
        Out = outDir,
        GridPerClass = 4,
    };

    private (int Code, string Out, string Err) Run(SarsCov2AppOptions options)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = SarsCov2App.Run(options, stdout, stderr, NullLoggerFactory.Instance);
        output.WriteLine(stdout.ToString());
        output.WriteLine(stderr.ToString());
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void A_tiny_voc5_run_trains_from_one_head_and_writes_sane_results()
    {
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = Run(Tiny(dir.Path));

        code.Should().Be(0, stderr);
        stdout.Should().Contain("confusion matrix");
        foreach (var f in new[] { "results.json", "training.png", "trace.csv", "vocab.txt" })
            new FileInfo(Path.Combine(dir.Path, f)).Length.Should().BeGreaterThan(0, f);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.Path, "results.json")));
        var root = json.RootElement;
        root.GetProperty("data").GetProperty("labels").GetArrayLength().Should().Be(5);
        root.GetProperty("data").GetProperty("test").GetInt32().Should().Be(10, "10% of 20 per class, 5 classes");
        double accuracy = root.GetProperty("test").GetProperty("accuracy").GetDouble();
        // This run is too short to learn (it checks the plumbing; the --quick test checks learning): its accuracy must be
        // the confusion matrix's diagonal share.
        var confusion = root.GetProperty("test").GetProperty("confusion");
        var cells = confusion.EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt64()).ToArray()).ToArray();
        cells.Sum(r => r.Sum()).Should().Be(10);
        accuracy.Should().BeApproximately(Enumerable.Range(0, cells.Length).Sum(i => cells[i][i]) / 10.0, 1e-12);
        root.GetProperty("heads").GetProperty("final")[0].GetInt32().Should().BeInRange(1, 32);
        root.GetProperty("settings").GetProperty("controllerPreset").GetString().Should().Be("loss", "the sample's default controller (issue 18)");
        root.GetProperty("settings").GetProperty("prune").GetString().Should().Be("MaskedLoss", "the loss-aware preset's prune statistic");
        root.GetProperty("settings").GetProperty("thresholds").GetString().Should().Be("Relative", "the controller's default threshold mode");
        root.GetProperty("parameters").GetInt64().Should().BeGreaterThan(0);
        root.GetProperty("bertBaseRatio").GetDouble().Should().BeGreaterThan(7);
        root.GetProperty("tokenizer").GetProperty("maxTokens").GetInt32().Should().Be(40, "spikes are longer than 40 tokens and get truncated");
        var grid = root.GetProperty("robustness");
        grid.GetProperty("settings").GetArrayLength().Should().Be(RobustnessGrid.Settings.Count);
        grid.GetProperty("settings").EnumerateArray().Should().OnlyContain(s => s.GetProperty("records").GetInt32() == 20, "4 per class, 5 classes");
        var incrt = grid.GetProperty("models")[0];
        incrt.GetProperty("model").GetString().Should().Be("INCRT");
        incrt.GetProperty("results").EnumerateArray().Should().OnlyContain(r => r.GetProperty("macroF1").GetDouble() >= 0 && r.GetProperty("macroF1").GetDouble() <= 1);
        stdout.Should().Contain("robustness grid").And.Contain("background 15").And.Contain("clean (defining mutations only)");
    }

    [Fact]
    public void The_checkpoint_reloaded_with_eval_reproduces_the_test_metrics_exactly_and_the_bow_baseline_is_reported()
    {
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = Run(Tiny(dir.Path) with { Epochs = 2, BaselineBow = true });
        code.Should().Be(0, stderr);
        foreach (var f in new[] { "model.incrt", "vocab.txt", "bow.json", "test.tsv", "confusion.png", "confusion-bow.png", "confusion-bow-window.png" })
            new FileInfo(Path.Combine(dir.Path, f)).Length.Should().BeGreaterThan(0, f);
        stdout.Should().Contain("bag-of-3-mers logistic regression, whole sequence").And.Contain("(INCRT's window)");

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.Path, "results.json")));
        var root = json.RootElement;
        var labels = root.GetProperty("data").GetProperty("labels").EnumerateArray().Select(l => l.GetString()!).ToList();
        var trained = Metrics(labels, root.GetProperty("test").GetProperty("confusion"));
        root.GetProperty("checkpoint").GetString().Should().Be("model.incrt");
        root.GetProperty("baselines").GetArrayLength().Should().Be(2, "max length 40 truncates, so the window baseline runs too");
        var bow = root.GetProperty("baselines")[0];
        bow.GetProperty("name").GetString().Should().Contain("bag-of-3-mers logistic regression");
        bow.GetProperty("test").GetProperty("accuracy").GetDouble().Should().BeGreaterThan(0.8,
            "chance is 0.2 on 5 balanced classes; whole-spike 3-mer counts separate the variants (1.0 when measured)");
        bow.GetProperty("features").GetInt32().Should().BeGreaterThan(1000, "overlapping 3-mers of whole spikes");
        Metrics(labels, bow.GetProperty("test").GetProperty("confusion")).Count.Should().Be(10);

        // Reload the checkpoint + tokenizer (and the saved baseline beside it) and evaluate the run's own test split:
        // identical confusion matrices. Without --out the plots go next to the evaluated file, not over confusion.png.
        var confusionBefore = File.GetLastWriteTimeUtc(Path.Combine(dir.Path, "confusion.png"));
        var (code2, stdout2, stderr2) = Run(new SarsCov2AppOptions
        {
            Eval = Path.Combine(dir.Path, "model.incrt"), InputTsv = Path.Combine(dir.Path, "test.tsv"),
        });
        code2.Should().Be(0, stderr2);
        stdout2.Should().Contain(trained.ToText());
        stdout2.Should().Contain(Metrics(labels, bow.GetProperty("test").GetProperty("confusion")).ToText(), "bow.json scores the same as the fitted baseline");
        foreach (var f in new[] { "test.eval-confusion.png", "test.eval-bow-confusion.png", "test.eval.json" })
            File.Exists(Path.Combine(dir.Path, f)).Should().BeTrue(f);
        File.GetLastWriteTimeUtc(Path.Combine(dir.Path, "confusion.png")).Should().Be(confusionBefore);
        var evalOut = Path.Combine(dir.Path, "eval");

        // The saved baseline alone is a model too.
        var (code5, stdout5, stderr5) = Run(new SarsCov2AppOptions { Eval = Path.Combine(dir.Path, "bow.json"), InputTsv = Path.Combine(dir.Path, "test.tsv"), Out = evalOut });
        code5.Should().Be(0, stderr5);
        stdout5.Should().Contain(Metrics(labels, bow.GetProperty("test").GetProperty("confusion")).ToText());

        // The issue's form, `--eval <checkpoint> --data <tsv>`, is the same evaluation.
        var (code4, stdout4, stderr4) = Run(new SarsCov2AppOptions { Eval = Path.Combine(dir.Path, "model.incrt"), Data = Path.Combine(dir.Path, "test.tsv"), Out = evalOut });
        code4.Should().Be(0, stderr4);
        stdout4.Should().Contain(trained.ToText());

        // A label the model never saw is a clean error naming the record.
        var odd = dir.File("odd.tsv", "id\tlabel\tsequence\nq0\tAlpha\tMFVFLVLLPLVSSQ\n\nq1\tEpsilon\tMFVFLVLLPLVSSQ\n");
        var oddOut = Path.Combine(dir.Path, "odd-out");
        var (code3, _, stderr3) = Run(new SarsCov2AppOptions { Eval = Path.Combine(dir.Path, "model.incrt"), InputTsv = odd, Out = oddOut });
        code3.Should().Be(SarsCov2App.UserErrorExitCode);
        stderr3.Should().StartWith("error: ").And.Contain("odd.tsv: line 4 (record 'q1')").And.Contain("Epsilon").And.NotContain("   at ");
        Directory.Exists(oddOut).Should().BeFalse("nothing is written");

        static ClassificationMetrics Metrics(IReadOnlyList<string> labels, JsonElement confusion)
        {
            var rows = confusion.EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt64()).ToArray()).ToArray();
            var matrix = new long[rows.Length, rows.Length];
            for (int t = 0; t < rows.Length; t++)
                for (int p = 0; p < rows.Length; p++) matrix[t, p] = rows[t][p];
            return ClassificationMetrics.From(labels, matrix);
        }
    }

    [Fact]
    public void The_quick_preset_trains_voc5_end_to_end_well_above_chance()
    {
        // The README's smoke run (`--quick`), as the command line builds it; its duration is printed, not asserted
        // (timing belongs to benchmarks).
        using var dir = new TempDirectory();
        var options = new SarsCov2AppOptions { Quick = true, Data = SarsCov2Data.Directory, Out = dir.Path }
            .WithQuickPreset(new HashSet<string>());
        var clock = Stopwatch.StartNew();
        var (code, stdout, stderr) = Run(options);
        output.WriteLine($"--quick took {clock.Elapsed.TotalSeconds:F1} s");

        code.Should().Be(0, stderr);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.Path, "results.json")));
        var root = json.RootElement;
        root.GetProperty("settings").GetProperty("quick").GetBoolean().Should().BeTrue();
        root.GetProperty("data").GetProperty("test").GetInt32().Should().Be(50, "10% of 100 per class, 5 classes");
        root.GetProperty("test").GetProperty("macroF1").GetDouble().Should().BeGreaterThan(0.6, "chance is 0.2; the quick run scored 0.799 when measured (README)");
        // The loss-aware controller keeps a head only if it pays for itself; whatever it decided, the final layout must be
        // the starting head plus the recorded growths minus the recorded removals.
        var heads = root.GetProperty("heads");
        heads.GetProperty("final")[0].GetInt32().Should().Be(1 + heads.GetProperty("grown").GetInt32() - heads.GetProperty("pruned").GetInt32());
    }

    [Fact]
    public void The_fixed_head_sweep_trains_1_4_12_and_the_final_head_count_on_the_same_split()
    {
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = Run(Tiny(dir.Path) with { Epochs = 1, BaselineFixed = true });

        code.Should().Be(0, stderr);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.Path, "results.json")));
        var root = json.RootElement;
        int final = root.GetProperty("heads").GetProperty("final")[0].GetInt32();
        var sweep = root.GetProperty("fixedHeadBaselines").EnumerateArray().ToList();
        sweep.Select(r => r.GetProperty("heads").GetInt32()).Should().Equal(SarsCov2App.FixedHeadCounts(final, 32));
        var parameters = sweep.Select(r => r.GetProperty("parameters").GetInt64()).ToList();
        parameters.Should().BeInAscendingOrder().And.OnlyHaveUniqueItems("more heads, more parameters");
        foreach (var r in sweep)
        {
            r.GetProperty("test").GetProperty("accuracy").GetDouble().Should().BeInRange(0, 1);
            stdout.Should().Contain($"fixed {r.GetProperty("heads").GetInt32()} heads (no controller)");
        }
    }

    [Theory]
    [InlineData(9, 32, new[] { 1, 4, 9, 12 })]
    [InlineData(4, 32, new[] { 1, 4, 12 })]
    [InlineData(20, 16, new[] { 1, 4, 12, 16 })]
    public void Fixed_head_counts_are_1_4_12_and_incrts_count_within_the_cap(int incrt, int cap, int[] expected) =>
        SarsCov2App.FixedHeadCounts(incrt, cap).Should().Equal(expected);

    [Fact]
    public void The_fixed_head_baseline_keeps_its_heads_and_writes_no_trace()
    {
        using var dir = new TempDirectory();
        var (code, _, stderr) = Run(Tiny(dir.Path) with { Heads = 2, NoController = true, Epochs = 1 });
        code.Should().Be(0, stderr);
        File.Exists(Path.Combine(dir.Path, "trace.csv")).Should().BeFalse();
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.Path, "results.json")));
        json.RootElement.GetProperty("heads").GetProperty("final")[0].GetInt32().Should().Be(2);
        json.RootElement.GetProperty("settings").GetProperty("controller").GetBoolean().Should().BeFalse();
    }

    [Fact]
    public void Simulated_data_written_as_tsv_reads_back_as_user_data()
    {
        using var dir = new TempDirectory();
        var tsv = Path.Combine(dir.Path, "voc5.tsv");
        var (code, _, stderr) = Run(Tiny(dir.Path) with { PerClass = 10, WriteTsv = tsv, NoTrain = true });
        code.Should().Be(0, stderr);
        var records = SpikeTsv.ReadFile(tsv);
        records.Should().HaveCount(50);
        records.Select(r => r.Label).Distinct().Should().BeEquivalentTo(["Alpha", "Beta", "Gamma", "Delta", "Omicron"]);

        var (code2, stdout2, stderr2) = Run(Tiny(dir.Path) with { InputTsv = tsv, WriteTsv = Path.Combine(dir.Path, "copy.tsv"), NoTrain = true });
        code2.Should().Be(0, stderr2);
        stdout2.Should().Contain("train 40, validation 5, test 5");
    }

    [Fact]
    public void A_bad_residue_in_a_user_tsv_is_a_clean_error_naming_the_record()
    {
        using var dir = new TempDirectory();
        var tsv = dir.File("bad.tsv", "id\tlabel\tsequence\ns1\tAlpha\tMFVFLV\ns2\tBeta\tMFV1LV\n");
        var (code, _, stderr) = Run(Tiny(dir.Path) with { InputTsv = tsv });
        code.Should().Be(SarsCov2App.UserErrorExitCode);
        stderr.Should().StartWith("error: ").And.Contain("s2").And.Contain("line 3").And.NotContain("   at ");
    }

    [Fact]
    public void A_duplicate_id_in_a_user_tsv_is_a_clean_error()
    {
        using var dir = new TempDirectory();
        var tsv = dir.File("dup.tsv", "id\tlabel\tsequence\ns1\tAlpha\tMFVFLV\ns1\tBeta\tMFVFLV\n");
        var (code, _, stderr) = Run(Tiny(dir.Path) with { InputTsv = tsv });
        code.Should().Be(SarsCov2App.UserErrorExitCode);
        stderr.Should().Contain("s1").And.Contain("duplicate");
    }

    [Fact]
    public void A_fasta_record_without_a_label_is_a_clean_error_naming_the_record()
    {
        using var dir = new TempDirectory();
        var fasta = dir.File("s.fasta", ">QHD1.1 spike\nMFVFLV\n>QHD2.1 spike\nMFVFLA\n");
        var labels = dir.File("labels.csv", "Accession,Pangolin\nQHD1.1,B.1.1.7\n");
        var (code, _, stderr) = Run(Tiny(dir.Path) with { Fasta = fasta, Labels = labels });
        code.Should().Be(SarsCov2App.UserErrorExitCode);
        stderr.Should().Contain("QHD2.1").And.Contain("no label").And.NotContain("   at ");
    }

    [Theory]
    [InlineData("missing-file")]
    [InlineData("tsv-and-fasta")]
    [InlineData("fasta-without-labels")]
    [InlineData("one-class")]
    public void Unusable_options_are_clean_errors(string kind)
    {
        using var dir = new TempDirectory();
        var one = dir.File("one.tsv", "id\tlabel\tsequence\n" + string.Concat(Enumerable.Range(0, 20).Select(i => $"s{i}\tAlpha\tMFVFLVLLPL\n")));
        var options = kind switch
        {
            "missing-file" => Tiny(dir.Path) with { InputTsv = Path.Combine(dir.Path, "nope.tsv") },
            "tsv-and-fasta" => Tiny(dir.Path) with { InputTsv = one, Fasta = one, Labels = one },
            "fasta-without-labels" => Tiny(dir.Path) with { Fasta = one },
            _ => Tiny(dir.Path) with { InputTsv = one },
        };
        var (code, _, stderr) = Run(options);
        code.Should().Be(SarsCov2App.UserErrorExitCode);
        stderr.Should().StartWith("error: ").And.NotContain("   at ");
    }

    [Fact]
    public void Classification_metrics_follow_the_confusion_matrix()
    {
        var m = ClassificationMetrics.From(["a", "b", "c"], new long[,] { { 3, 1, 0 }, { 0, 2, 0 }, { 0, 0, 0 } });
        m.Accuracy.Should().BeApproximately(5 / 6.0, 1e-12);
        m.Classes[0].Precision.Should().Be(1);
        m.Classes[0].Recall.Should().Be(0.75);
        m.Classes[1].Precision.Should().BeApproximately(2 / 3.0, 1e-12);
        double.IsNaN(m.Classes[2].F1).Should().BeTrue("class c never occurs nor is predicted");
        m.MacroF1.Should().BeApproximately((2 * 0.75 / 1.75 + 2 * (2 / 3.0) / (5 / 3.0)) / 2, 1e-12, "absent classes are left out");
        m.ToText().Should().Contain("macro-F1");
    }
}
