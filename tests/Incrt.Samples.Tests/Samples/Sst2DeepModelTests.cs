using System.Diagnostics;
using System.Text.Json;
using FluentAssertions;
using Incrt.Sst2;
using Incrt.Tasks.Data;
using Incrt.Tests.Data;
using Xunit;
using Xunit.Abstractions;

namespace Incrt.Tests.Samples;

/// <summary>The SST-2 sample with several INCRT blocks: per-layer reporting, checkpoint and --eval, old one-layer
/// checkpoints, the bag-of-words baseline and the --quick smoke run.</summary>
public class Sst2DeepModelTests(ITestOutputHelper output)
{
    /// <summary>A folder with the first rows of the shared SST-2 train and dev files.</summary>
    internal static TempDirectory Subset(int trainRows, int devRows)
    {
        var dir = new TempDirectory();
        var folder = DataPaths.Resolve();
        foreach (var (split, rows) in new[] { ("train", trainRows), ("dev", devRows) })
            File.WriteAllLines(Path.Combine(dir.Path, split + ".tsv"), File.ReadLines(DataPaths.Sst2File(folder, split)).Take(rows + 1));
        return dir;
    }

    private static readonly string[] Tiny = ["--epochs", "1", "--batch-size", "16", "--d-model", "16", "--head-dim", "8", "--evals-per-epoch", "1"];

    private int Run(params string[] args)
    {
        var log = new StringWriter();
        var err = new StringWriter();
        int code = Sst2App.Run(args, log, err, consoleLogging: false);
        output.WriteLine(log.ToString());
        err.ToString().Should().BeEmpty();
        return code;
    }

    [Fact]
    public void A_two_layer_run_reports_every_layer_and_its_checkpoint_reloads_in_eval()
    {
        using var dir = Subset(400, 100);
        var outDir = Path.Combine(dir.Path, "out");
        Run([.. Tiny, "--data", dir.Path, "--out", outDir, "--layers", "2", "--ffn", "32", "--prenorm", "--pieces", "3"])
            .Should().Be(0, "the reloaded checkpoint must reproduce the dev accuracy");

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "results.json")));
        var r = json.RootElement;
        r.GetProperty("headsPerLayer").GetArrayLength().Should().Be(2);
        r.GetProperty("controller").GetProperty("finalLambdaMaxOverThetaW").GetArrayLength().Should().Be(2);
        var traceLayers = File.ReadLines(Path.Combine(outDir, "controller_trace.csv")).Skip(1).Select(l => l.Split(',')[2]).Distinct().ToList();
        traceLayers.Should().BeEquivalentTo(["0", "1"], "the trace holds a row per controller call and layer");

        var log = new StringWriter();
        Sst2App.Run(["--eval", Path.Combine(outDir, "model.incrt"), "--data", Path.Combine(dir.Path, "dev.tsv")], log, new StringWriter(), consoleLogging: false)
            .Should().Be(0);
        log.ToString().Should().Contain("reproduced").And.MatchRegex(@"heads per layer \[\d+, \d+\]").And.Contain("split into word pieces");
    }

    [Fact]
    public void A_one_layer_checkpoint_of_the_old_layout_still_loads_and_scores()
    {
        // The layout of the sample before issue 17 (one post-norm block, no FFN, whole words): --eval reads the
        // architecture from the checkpoint, not from the current defaults.
        using var dir = Subset(300, 100);
        var outDir = Path.Combine(dir.Path, "old");
        Run([.. Tiny, "--data", dir.Path, "--out", outDir, "--layers", "1", "--ffn", "0", "--prenorm", "false", "--dropout", "0.3", "--attention-dropout", "0.3", "--lr", "1e-3", "--pieces", "0", "--pooling", "MaskedMean"]).Should().Be(0);
        var log = new StringWriter();
        Sst2App.Run(["--eval", Path.Combine(outDir, "model.incrt"), "--data", Path.Combine(dir.Path, "dev.tsv")], log, new StringWriter(), consoleLogging: false)
            .Should().Be(0);
        log.ToString().Should().Contain("reproduced").And.MatchRegex(@"heads per layer \[\d+\],");
    }

    [Fact]
    public void Baselines_include_a_bag_of_words_logistic_regression_on_the_same_vocabulary()
    {
        using var dir = Subset(300, 100);
        var outDir = Path.Combine(dir.Path, "out");
        Run([.. Tiny, "--data", dir.Path, "--out", outDir, "--layers", "2", "--baselines"]).Should().Be(0);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "baselines.json")));
        var rows = json.RootElement.EnumerateArray().ToList();
        var bow = rows.Single(x => x.GetProperty("name").GetString() == "bag-of-words LR");
        using var results = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "results.json")));
        long vocabulary = results.RootElement.GetProperty("data").GetProperty("vocabulary").GetInt64();
        bow.GetProperty("parameters").GetInt64().Should().Be(2 * vocabulary + 2, "one weight per token id and class, and a bias");
        (bow.GetProperty("devAccuracy").GetDouble() * 100).Should().BeApproximately(Math.Round(bow.GetProperty("devAccuracy").GetDouble() * 100), 1e-9);
        rows.Where(x => x.GetProperty("name").GetString()!.StartsWith("fixed H=", StringComparison.Ordinal))
            .Should().OnlyContain(x => x.GetProperty("heads").GetArrayLength() == 2, "the fixed grid uses the same two-layer architecture");
    }

    [Fact]
    public void Quick_run_trains_on_the_real_data_and_writes_its_outputs()
    {
        using var dir = new TempDirectory();
        var clock = Stopwatch.StartNew();
        Run(["--quick", "--out", dir.Path]).Should().Be(0);
        output.WriteLine($"--quick took {clock.Elapsed.TotalSeconds:F1} s");   // the README gives the measured time; not asserted
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.Path, "results.json")));
        json.RootElement.GetProperty("data").GetProperty("trainRows").GetInt32().Should().Be(20000);
        json.RootElement.GetProperty("devExamples").GetInt64().Should().Be(872);
        json.RootElement.GetProperty("devAccuracy").GetDouble().Should().BeGreaterThan(0.6, "one epoch on 20,000 phrases already learns");
        // Seeded runs are bit-identical only on a CPU with the same LibTorch kernels, so the file names the CPU.
        var cpu = json.RootElement.GetProperty("environment").GetProperty("cpu");
        cpu.GetProperty("vector").GetString().Should().BeOneOf("avx512", "avx2", "avx", "sse4.2", "none");
    }
}
