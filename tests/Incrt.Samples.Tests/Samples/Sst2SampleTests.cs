using System.Text.Json;
using FluentAssertions;
using Incrt.Sst2;
using Incrt.Tasks.Data;
using Incrt.Tests.Data;
using Xunit;
using Xunit.Abstractions;

namespace Incrt.Tests.Samples;

public class Sst2SampleTests(ITestOutputHelper output)
{
    /// <summary>A data folder holding the first <paramref name="trainRows"/>/<paramref name="devRows"/> rows of the real SST-2 files.</summary>
    private static TempDirectory Subset(int trainRows, int devRows)
    {
        var dir = new TempDirectory();
        var folder = DataPaths.Resolve();
        foreach (var (split, rows) in new[] { ("train", trainRows), ("dev", devRows) })
            File.WriteAllLines(Path.Combine(dir.Path, split + ".tsv"),
                File.ReadLines(DataPaths.Sst2File(folder, split)).Take(rows + 1)); // + header
        return dir;
    }

    [Fact]
    public void A_tiny_run_trains_writes_results_and_a_checkpoint_that_reproduces_its_dev_accuracy()
    {
        using var dir = Subset(500, 200);
        var outDir = Path.Combine(dir.Path, "out");
        var log = new StringWriter();
        var err = new StringWriter();

        int code = Sst2App.Run(["--data", dir.Path, "--out", outDir, "--epochs", "1", "--batch-size", "16", "--d-model", "32",
            "--head-dim", "8", "--evals-per-epoch", "2"], log, err, consoleLogging: false);
        output.WriteLine(log.ToString());
        err.ToString().Should().BeEmpty();
        code.Should().Be(0, "the reloaded checkpoint must reproduce the training run's dev accuracy");

        foreach (var f in new[] { "results.json", "training.png", "controller_trace.csv", "model.incrt", "model.vocab.txt" })
            File.Exists(Path.Combine(outDir, f)).Should().BeTrue(f);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "results.json")));
        var r = json.RootElement;
        double acc = r.GetProperty("devAccuracy").GetDouble();
        // The tiny run is a plumbing check (1 epoch on 500 rows stays near chance); its accuracy is a count over 200 rows.
        (acc * 200).Should().BeApproximately(Math.Round(acc * 200), 1e-9, "dev accuracy is correct / 200");
        r.GetProperty("devExamples").GetInt64().Should().Be(200);
        r.GetProperty("headsPerLayer").GetArrayLength().Should().Be(2, "the default model has two INCRT blocks");
        r.GetProperty("predictedHeads").GetInt32().Should().BeGreaterThan(0, "the frozen Theorem 2 predictor runs before training");
        r.GetProperty("parameters").GetInt64().Should().BeGreaterThan(0);
        r.GetProperty("parameterRatioToBertBase").GetDouble()
            .Should().BeApproximately(r.GetProperty("parameters").GetInt64() / 110e6, 1e-15, "BERT-base has 110M parameters");
        r.GetProperty("wallSeconds").GetDouble().Should().BePositive();
        r.GetProperty("steps").GetInt64().Should().Be(32); // ceil(500 / 16)
        r.GetProperty("controller").GetProperty("calls").GetInt64().Should().Be(6); // every 5th step
        r.GetProperty("perClass").GetArrayLength().Should().Be(2);
        r.GetProperty("confusion").EnumerateArray().SelectMany(row => row.EnumerateArray()).Sum(x => x.GetInt64()).Should().Be(200);
        r.GetProperty("checkpoint").GetProperty("reproduced").GetBoolean().Should().BeTrue();
        r.GetProperty("checkpoint").GetProperty("reloadedDevAccuracy").GetDouble().Should().Be(acc);

        // Evaluation-only run on the same dev file: same accuracy, asserted by the app (exit code 0) and here.
        var evalLog = new StringWriter();
        Sst2App.Run(["--eval", Path.Combine(outDir, "model.incrt"), "--data", Path.Combine(dir.Path, "dev.tsv")], evalLog, err, consoleLogging: false)
            .Should().Be(0);
        output.WriteLine(evalLog.ToString());
        evalLog.ToString().Should().Contain("reproduced").And.Contain("confusion").And.Contain("precision")
            .And.Contain("words (").And.Contain("are not in the training vocabulary");
    }

    [Fact]
    public void A_malformed_file_is_a_clear_error_naming_file_and_line()
    {
        using var dir = new TempDirectory();
        dir.File("train.tsv", "sentence\tlabel\ngood film\t1\nbad film\t2\n");
        dir.File("dev.tsv", "sentence\tlabel\nok\t1\n");
        var err = new StringWriter();
        Sst2App.Run(["--data", dir.Path, "--out", Path.Combine(dir.Path, "out")], new StringWriter(), err, consoleLogging: false).Should().Be(2);
        err.ToString().Should().Contain("train.tsv").And.Contain("line 3");
    }
}
