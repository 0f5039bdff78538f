using System.Diagnostics;
using System.Globalization;
using Incrt.Control;
using Incrt.Samples.Common;
using Incrt.Tasks.Data.SarsCov2;
using Incrt.Training;

namespace Incrt.SarsCov2;

/// <summary>Everything a finished training run measured, for the console report and <c>results.json</c>.</summary>
/// <param name="Options">The run's options.</param>
/// <param name="Data">The data and its split.</param>
/// <param name="Tokenizer">The k-mer tokenizer fitted on the training split.</param>
/// <param name="Stride">The k-mer stride.</param>
/// <param name="MaxTokens">Longest encoded sequence.</param>
/// <param name="MeanTokens">Mean encoded length.</param>
/// <param name="Truncated">Sequences cut to <c>--max-length</c>.</param>
/// <param name="Result">The INCRT (or fixed-head) run.</param>
/// <param name="Title">Its name in tables.</param>
/// <param name="FixedRuns">The fixed-head sweep (<c>--baseline-fixed</c>).</param>
/// <param name="Baselines">The bag-of-k-mers baselines (<c>--baseline-bow</c>).</param>
/// <param name="Grid">The robustness grid's test sets (empty for user data).</param>
/// <param name="GridRows">Every model's metrics on the grid.</param>
/// <param name="CheckpointPath">The saved checkpoint.</param>
/// <param name="TestTsv">The saved test split.</param>
/// <param name="Files">Files written so far.</param>
/// <param name="Wall">Clock started with the run.</param>
/// <param name="Controller">The controller options INCRT ran with (null for a fixed-head run).</param>
public sealed record SarsCov2Outcome(
    SarsCov2AppOptions Options, SampleSplits Data, KmerTokenizer Tokenizer, int Stride, int MaxTokens, double MeanTokens, int Truncated,
    ExperimentResult Result, string Title, IReadOnlyList<(int Heads, ExperimentResult Result)> FixedRuns,
    IReadOnlyList<(string Name, int? Residues, BagOfKmersResult Result)> Baselines, IReadOnlyList<GridSet> Grid,
    IReadOnlyList<GridRow> GridRows, string CheckpointPath, string TestTsv, List<string> Files, Stopwatch Wall,
    ControllerOptions? Controller = null);

/// <summary>The console report and <c>results.json</c> of a training run.</summary>
public static class SarsCov2Report
{
    /// <summary>Prints test metrics, heads, parameters, the baselines, the comparison table and the robustness grid.</summary>
    /// <param name="x">The run.</param>
    /// <param name="stdout">Destination.</param>
    public static void Print(SarsCov2Outcome x, TextWriter stdout)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(stdout);
        var inv = CultureInfo.InvariantCulture;
        var result = x.Result;
        var m = result.Test;
        int? predictedHeads = result.Prediction?.PredictedHeads;
        double? predictionError = PredictionError(result);
        stdout.WriteLine();
        stdout.WriteLine("test set:");
        stdout.Write(m.ToText());
        stdout.WriteLine(string.Create(inv,
            $"heads {string.Join(",", result.Heads)} (grew {result.Grown}, pruned {result.Pruned}, converged {(result.Converged?.ToString() ?? "n/a")}); " +
            $"parameters {result.Parameters:N0} = BERT-base (110M) / {SarsCov2App.BertBaseParameters / result.Parameters:F0}; predicted heads {(predictedHeads is int ph ? string.Create(inv, $"{ph} (error {predictionError:P0})") : "n/a")}"));
        stdout.WriteLine(string.Create(inv, $"training {result.TrainSeconds:F1} s for {result.Steps} steps; total {x.Wall.Elapsed.TotalSeconds:F1} s"));
        foreach (var (name, _, bow) in x.Baselines)
        {
            stdout.WriteLine();
            stdout.WriteLine(string.Create(inv,
                $"{name} ({bow.Features} features, {bow.Parameters:N0} parameters, {bow.Steps} full-batch AdamW steps, {bow.Seconds:F1} s), test set:"));
            stdout.Write(bow.Test.ToText());
        }
        if (x.Baselines.Count > 0 || x.FixedRuns.Count > 0)
        {
            stdout.WriteLine();
            int w = Math.Max(30, x.Baselines.Select(b => b.Name.Length).DefaultIfEmpty(0).Max());
            stdout.WriteLine($"{"model".PadRight(w)}  test accuracy  macro-F1  parameters");
            stdout.WriteLine(string.Create(inv, $"{x.Title.PadRight(w)}  {m.Accuracy,13:F3} {m.MacroF1,9:F3} {result.Parameters,11:N0}"));
            foreach (var (h, r) in x.FixedRuns)
                stdout.WriteLine(string.Create(inv, $"{$"fixed {h} heads (no controller)".PadRight(w)}  {r.Test.Accuracy,13:F3} {r.Test.MacroF1,9:F3} {r.Parameters,11:N0}"));
            foreach (var (name, _, bow) in x.Baselines)
                stdout.WriteLine(string.Create(inv, $"{name.PadRight(w)}  {bow.Test.Accuracy,13:F3} {bow.Test.MacroF1,9:F3} {bow.Parameters,11:N0}"));
        }
        if (x.Grid.Count > 0 && x.GridRows.Count > 0)
        {
            stdout.WriteLine();
            stdout.WriteLine(string.Create(inv,
                $"robustness grid: {x.Options.GridPerClass} sequences per class and setting, simulated with shifted settings (never seen in training):"));
            stdout.Write(RobustnessGrid.Table(x.Grid, x.GridRows));
        }
        stdout.WriteLine($"checkpoint: {x.CheckpointPath} (re-evaluate with --eval {x.CheckpointPath} --input-tsv {x.TestTsv})");
    }

    /// <summary>Writes <c>results.json</c> into <paramref name="outDir"/>.</summary>
    /// <param name="x">The run.</param>
    /// <param name="outDir">Output folder.</param>
    /// <param name="stdout">Receives the list of files written.</param>
    public static void WriteResults(SarsCov2Outcome x, string outDir, TextWriter stdout)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(stdout);
        var o = x.Options;
        var result = x.Result;
        var m = result.Test;
        bool simulated = x.Data.Catalog is not null;
        var resultsPath = Path.Combine(outDir, "results.json");
        ResultsFile.Write(resultsPath, new
        {
            sample = "Incrt.SarsCov2",
            data = new
            {
                source = x.Data.Source,
                simulated,
                task = simulated ? o.Task : null,
                perClass = simulated ? o.PerClass : (int?)null,
                augmented = simulated && o.Augment,
                labels = x.Data.Labels,
                train = x.Data.Train.Count,
                validation = x.Data.Validation.Count,
                test = x.Data.Test.Count,
            },
            tokenizer = new { k = o.K, stride = x.Stride, vocabulary = x.Tokenizer.VocabularySize, maxLength = o.MaxLength, maxTokens = x.MaxTokens, meanTokens = x.MeanTokens, truncated = x.Truncated },
            settings = new
            {
                o.Seed, o.Epochs, o.BatchSize, o.LearningRate, o.DModel, o.HeadDim, initialHeads = o.Heads, o.MaxHeads,
                o.Dropout, o.TokenDropout, pooling = o.Pooling.ToString(),
                controller = !o.NoController, controllerPreset = o.NoController ? null : ControllerChoice.Normalize(o.Controller),
                prune = x.Controller?.Prune.ToString(), pruneRatio = x.Controller?.LeaveOneOutRatio, thresholds = x.Controller?.Thresholds.ToString(),
                o.Threads, device = o.Device,
                quick = o.Quick, augment = o.Augment,
            },
            test = Metrics(m),
            validation = result.Validation.Select(e => new { step = e.Step, accuracy = e.Accuracy, loss = e.Loss }),
            heads = new
            {
                final = result.Heads,
                grown = result.Grown,
                pruned = result.Pruned,
                converged = result.Converged,
                predicted = result.Prediction?.PredictedHeads,
                predictedRelativeError = PredictionError(result),
                prediction = result.Prediction is { } pr ? new
                {
                    pr.PredictedHeads, pr.Growths, pr.Gamma0, pr.ThetaW, pr.LogRatio, measure = pr.Measure.ToString(), pr.KappaSquared,
                    pr.Constant, pr.AsymptoticHeads, pr.TaskOperatorRank, pr.InitialOperatorRank, pr.CovarianceRank, pr.Batches,
                    pr.ReplayHeads, pr.ReplayDecisions, pr.ReplayStoppedBy, pr.ReplayCalibrationHeads, pr.StaticReplayHeads,
                } : null,
                predictionError = result.PredictionError,
                replayAfterCalibration = result.PredictionAfterCalibration is { } ac ? new
                {
                    ac.ReplayHeads, ac.ReplayDecisions, ac.ReplayStoppedBy, ac.ReplayCalibrationHeads, ac.StaticReplayHeads, ac.InitialOperatorRank,
                } : null,
                events = result.Events.Where(e => e.Kind is HeadEventKind.Grew or HeadEventKind.Pruned)
                    .Select(e => new { step = e.Step, layer = e.Layer, kind = e.Kind.ToString(), headsAfter = e.HeadsAfter }),
            },
            controller = x.Controller is null ? null : ControllerChoice.Describe(o.Controller, x.Controller),
            parameters = result.Parameters,
            bertBaseRatio = SarsCov2App.BertBaseParameters / result.Parameters,
            checkpoint = Path.GetFileName(x.CheckpointPath),
            baselines = x.Baselines.Select(b => new
            {
                name = b.Name,
                k = o.K,
                stride = 1,
                residues = b.Residues,
                features = b.Result.Features,
                parameters = b.Result.Parameters,
                steps = b.Result.Steps,
                seconds = b.Result.Seconds,
                validationAccuracy = b.Result.ValidationAccuracy,
                saved = b.Residues is null ? BagOfKmersModel.FileName : null,
                test = Metrics(b.Result.Test),
            }),
            fixedHeadBaselines = x.FixedRuns.Select(f => new
            {
                heads = f.Heads,
                parameters = f.Result.Parameters,
                trainSeconds = f.Result.TrainSeconds,
                test = new { accuracy = f.Result.Test.Accuracy, macroF1 = f.Result.Test.MacroF1, confusion = f.Result.Test.Confusion },
            }),
            robustness = x.Grid.Count > 0 ? RobustnessGrid.ToJson(x.Grid, x.GridRows, o.GridPerClass) : null,
            steps = result.Steps,
            trainSeconds = result.TrainSeconds,
            totalSeconds = x.Wall.Elapsed.TotalSeconds,
            files = x.Files.Select(Path.GetFileName),
        });
        stdout.WriteLine($"wrote {resultsPath}, {string.Join(", ", x.Files.Select(Path.GetFileName))}");
    }

    private static double? PredictionError(ExperimentResult result) =>
        result.Prediction?.PredictedHeads is int p && result.Heads.Count > 0 ? Math.Abs(p - result.Heads[0]) / (double)result.Heads[0] : null;

    private static object Metrics(ClassificationMetrics m) => new
    {
        accuracy = m.Accuracy,
        macroF1 = m.MacroF1,
        perClass = m.Classes.Select(c => new { label = c.Label, support = c.Support, precision = c.Precision, recall = c.Recall, f1 = c.F1 }),
        confusion = m.Confusion,
    };
}
