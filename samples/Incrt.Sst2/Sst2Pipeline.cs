using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Incrt.Attention;
using Incrt.Control;
using Incrt.Models;
using Incrt.Persistence;
using Incrt.Samples.Common;
using Incrt.Tasks.Data;
using Incrt.Theory;
using Incrt.Training;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace Incrt.Sst2;

/// <summary>SST-2 data after reading and encoding: texts, vocabulary, id sequences.</summary>
internal sealed record Sst2Data(string TrainPath, string DevPath, IReadOnlyList<LabeledText> Train, IReadOnlyList<LabeledText> Dev,
    int TrainRowsInFile, WordVocabulary Vocabulary, int[][] TrainIds, int[][] DevIds, double DevUnknownRate)
{
    /// <summary>Train and dev file paths for a --data value: a folder holding train.tsv/dev.tsv, or the shared data
    /// folder holding sst2/ (the default, found by <see cref="DataPaths.Resolve(string?)"/>).</summary>
    public static (string Train, string Dev) ResolveFiles(string? data)
    {
        var folder = DataPaths.Resolve(data);
        if (File.Exists(Path.Combine(folder, "train.tsv")) || File.Exists(Path.Combine(folder, "dev.tsv")))
            return (Path.Combine(folder, "train.tsv"), Path.Combine(folder, "dev.tsv"));
        return (DataPaths.Sst2File(folder, "train"), DataPaths.Sst2File(folder, "dev"));
    }

    public static Sst2Data Load(Sst2Settings s)
    {
        var (trainPath, devPath) = ResolveFiles(s.Data);
        var train = LabeledTextTsv.Read(trainPath);
        var dev = LabeledTextTsv.Read(devPath);
        int inFile = train.Count;
        if (s.TrainRows is int n && n < train.Count)
        {
            // A seeded random subset (same rows for the same seed).
            var order = Enumerable.Range(0, train.Count).ToArray();
            new Random(s.Seed).Shuffle(order);
            train = order.Take(n).Order().Select(i => train[i]).ToList();
        }
        var vocab = WordVocabulary.Build(train.Select(e => e.Text), s.MinFreq, pieceMinTypes: s.PieceMinTypes > 0 ? s.PieceMinTypes : null);
        var trainIds = train.Select(e => vocab.Encode(e.Text, s.MaxLength, addCls: true)).ToArray();
        var devIds = dev.Select(e => vocab.Encode(e.Text, s.MaxLength, addCls: true)).ToArray();
        var (devTokens, devMissing, _) = vocab.Coverage(dev.Select(e => e.Text));
        return new Sst2Data(trainPath, devPath, train, dev, inFile, vocab, trainIds, devIds, devTokens == 0 ? 0 : devMissing / (double)devTokens);
    }
}

/// <summary>What one training run produced (the baselines table is built from these).</summary>
internal sealed record RunOutcome(string Name, IReadOnlyList<int> Heads, long Parameters, double DevAccuracy, double BestDevAccuracy,
    double TrainSeconds, double TrainCpuSeconds, long Steps, EvaluationResult FinalEvaluation, IReadOnlyList<EvaluationResult> Evaluations,
    HeadCountPrediction? Prediction = null, HeadCountPrediction? PredictionAfterCalibration = null);

/// <summary>Training, reporting and evaluation of INCRT classifiers on SST-2.</summary>
internal static class Sst2Pipeline
{
    /// <summary>BERT-base parameter count used for the size ratio.</summary>
    public const double BertBaseParameters = 110e6;
    /// <summary>Evaluation batch size; the same in training and in --eval so a reload reproduces the numbers.</summary>
    public const int EvalBatchSize = 256;
    public const string CheckpointFile = "model.incrt";
    public const string VocabularyFile = "model.vocab.txt";

    public static LengthBucketBatcher EvalBatcher(IReadOnlyList<int[]> ids, IReadOnlyList<LabeledText> rows, Device device) =>
        new(ids, rows.Select(r => r.Label).ToArray(), EvalBatchSize, 0, device);

    /// <summary>The controller options of an INCRT run of <paramref name="totalSteps"/> steps: the <c>--controller</c>
    /// preset with an explicit <c>--thresholds</c> on top (<see cref="ControllerChoice.Build"/>).</summary>
    public static ControllerOptions ControllerOptionsFor(Sst2Settings s, long totalSteps) =>
        ControllerChoice.Build(s.Controller, totalSteps, s.Thresholds);

    /// <summary>Trains one model. <paramref name="fixedHeads"/> (per layer) disables the controller; null = INCRT.</summary>
    public static RunOutcome Train(string name, Sst2Settings s, Sst2Data data, Device device, IReadOnlyList<int>? fixedHeads,
        IProgressSink progress, ILoggerFactory? loggers, Action<IncrtClassifier, Trainer, HeadController?, IReadOnlyList<EvaluationResult>>? after = null)
    {
        manual_seed(s.Seed);
        int initial = fixedHeads?.Min() ?? 1;
        int maxHeads = Math.Max(s.MaxHeads, fixedHeads?.Max() ?? 1);
        var options = new IncrtModelOptions(data.Vocabulary.Count, s.MaxLength, s.DModel, s.HeadDim, s.Layers, initial, maxHeads,
            s.Ffn, s.Dropout, HeadAggregation.Concat, s.Pooling, Classes: 2, Seed: (ulong)s.Seed, AttentionDropout: s.AttentionDropout, PreNorm: s.PreNorm);
        using var model = new IncrtClassifier(options, device);
        if (fixedHeads is not null)
            for (int l = 0; l < model.GrowableLayers.Count; l++)
                while (model.GrowableLayers[l].HeadCount < fixedHeads[Math.Min(l, fixedHeads.Count - 1)])
                    model.GrowableLayers[l].AddHead(HeadInit.Random);

        var train = new LengthBucketBatcher(data.TrainIds, data.Train.Select(r => r.Label).ToArray(), s.BatchSize, s.Seed, device);
        var dev = EvalBatcher(data.DevIds, data.Dev, device);
        long total = (long)train.BatchesPerEpoch * s.Epochs;
        var controllerOptions = ControllerOptionsFor(s, total);

        // Theorem 2: K* predicted before the first step from the data and the one-head model, with the predictor's
        // constant frozen on the synthetic family (docs/theory.md). Re-seeding keeps training identical with or without it.
        HeadCountPrediction? prediction = null;
        if (fixedHeads is null)
        {
            prediction = SamplePrediction.Predict(model, train, s.Epochs, controllerOptions);
            progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[{name}] predicted heads K* = {prediction.PredictedHeads} (κ_T² {prediction.KappaSquared:F1}, Γ(0) {prediction.Gamma0:G3}, θ_w {prediction.ThetaW:G3}); " +
                $"growth replay {prediction.ReplayHeads} ({prediction.ReplayDecisions} decision calls, stopped by {prediction.ReplayStoppedBy}; calibration batches only {prediction.ReplayCalibrationHeads}, static A(0) {prediction.StaticReplayHeads})"));
            manual_seed(s.Seed);
        }
        var trainer = new Trainer(model, new TrainerOptions
        {
            Epochs = s.Epochs, LearningRate = s.LearningRate, WeightDecay = s.WeightDecay, WarmupSteps = (int)Math.Min(s.WarmupSteps, Math.Max(1, total / 10)),
            ProgressEvery = s.ProgressEvery, EvaluationsPerEpoch = s.EvalsPerEpoch,
        });
        using var controller = fixedHeads is null
            ? new HeadController(model.GrowableLayers, trainer.Optimizer, controllerOptions, loggers?.CreateLogger("Incrt.Controller"), model)
            : null;
        trainer.Controller = controller;
        // The growth replay again when calibration ends (one-head model after CalibrationCalls·Interval steps, before
        // any growth decision), over the remaining decision calls (docs/theory.md §7).
        HeadCountPrediction? afterCalibration = null;
        if (controller is not null)
            SamplePrediction.OnCalibrated(trainer, e =>
            {
                afterCalibration = SamplePrediction.Predict(model, train, s.Epochs, controllerOptions);
                progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"[{name}] growth replay after calibration (step {e.Step}): {afterCalibration.ReplayHeads} heads ({afterCalibration.ReplayDecisions} decision calls, stopped by {afterCalibration.ReplayStoppedBy})"));
            });

        var clock = Stopwatch.StartNew();
        double cpu0 = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
        trainer.Progress += p =>
        {
            double eta = p.StepsPerSecond > 0 ? (p.TotalSteps - p.Step) / p.StepsPerSecond : double.NaN;
            progress.Report(p, string.Create(CultureInfo.InvariantCulture,
                $"[{name}] ep {p.Epoch}/{s.Epochs} step {p.Step,6}/{p.TotalSteps} | loss {p.Loss:F4} | {p.StepsPerSecond,5:F1} step/s | " +
                $"lr {p.LearningRate:0.0e+0} | heads [{string.Join(",", p.Heads)}] | λmax/θw [{string.Join(",", p.LambdaMaxOverTheta.Select(r => r.ToString("F2", CultureInfo.InvariantCulture)))}] | " +
                $"eta {FormatSeconds(eta)}"));
        };
        trainer.Evaluated += e =>
        {
            var heads = model.GrowableLayers.Select(l => l.HeadCount).ToList();
            progress.Evaluated(e, heads, string.Create(CultureInfo.InvariantCulture,
                $"[{name}] dev @ step {e.Step}: accuracy {e.Accuracy:P2}, loss {e.Loss:F4}, heads [{string.Join(",", heads)}], {clock.Elapsed.TotalSeconds:F0} s"));
        };

        var evals = progress.Track(name, total, s.Epochs, () => trainer.Fit(train, dev));
        double seconds = clock.Elapsed.TotalSeconds;
        double cpuSeconds = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds - cpu0;
        var final = evals.Count > 0 ? evals[^1] : trainer.Evaluate(dev);
        var heads = model.GrowableLayers.Select(l => l.HeadCount).ToList();
        var outcome = new RunOutcome(name, heads, model.ParameterCount(), final.Accuracy, evals.Select(e => e.Accuracy).DefaultIfEmpty(final.Accuracy).Max(),
            seconds, cpuSeconds, trainer.Step, final, evals, prediction, afterCalibration);
        after?.Invoke(model, trainer, controller, evals);
        return outcome;
    }

    /// <summary>Saves the model and vocabulary, reloads the checkpoint and re-scores dev; returns the reloaded result.</summary>
    public static EvaluationResult SaveAndVerify(string outDir, IncrtClassifier model, Sst2Data data, Sst2Settings s, EvaluationResult final, Device device)
    {
        var checkpoint = Path.Combine(outDir, CheckpointFile);
        data.Vocabulary.Save(Path.Combine(outDir, VocabularyFile));
        var metadata = new Dictionary<string, string>
        {
            ["task"] = "sst2",
            ["vocabulary"] = VocabularyFile,
            ["maxLength"] = s.MaxLength.ToString(CultureInfo.InvariantCulture),
            ["addCls"] = "true",
            ["devFile"] = data.DevPath,
            ["devSha256"] = Sha256(data.DevPath),
            ["devAccuracy"] = final.Accuracy.ToString("R", CultureInfo.InvariantCulture),
            ["devCorrect"] = Enumerable.Range(0, 2).Sum(c => final.Confusion[c, c]).ToString(CultureInfo.InvariantCulture),
            ["steps"] = final.Step.ToString(CultureInfo.InvariantCulture),
        };
        IncrtCheckpoint.Save(checkpoint, model, metadata: metadata);
        var loaded = IncrtCheckpoint.Load(checkpoint, device);
        using var reloaded = loaded.Model;
        var vocab = WordVocabulary.Load(Path.Combine(outDir, VocabularyFile));
        var ids = data.Dev.Select(e => vocab.Encode(e.Text, s.MaxLength, addCls: true)).ToArray();
        return Trainer.Evaluate(reloaded, EvalBatcher(ids, data.Dev, device), final.Step);
    }

    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    public static string FormatSeconds(double seconds) =>
        !double.IsFinite(seconds) ? "?" : seconds >= 60 ? $"{(int)(seconds / 60)}m{(int)(seconds % 60):00}s" : $"{seconds:F0}s";

    /// <summary>Accuracy, per-class precision/recall and the confusion matrix as text.</summary>
    public static string Describe(EvaluationResult e)
    {
        var inv = CultureInfo.InvariantCulture;
        string[] names = ["negative (0)", "positive (1)"];
        var sb = new System.Text.StringBuilder();
        sb.AppendLine(string.Create(inv, $"accuracy {e.Accuracy:P2} ({Enumerable.Range(0, 2).Sum(c => e.Confusion[c, c])}/{e.Count}), loss {e.Loss:F4}"));
        sb.AppendLine("class          precision  recall");
        for (int c = 0; c < 2; c++) sb.AppendLine(string.Create(inv, $"{names[c],-14} {e.Precision(c),9:P1}  {e.Recall(c),6:P1}"));
        sb.AppendLine("confusion (rows = true, columns = predicted)");
        sb.AppendLine("               pred 0   pred 1");
        for (int c = 0; c < 2; c++) sb.AppendLine(string.Create(inv, $"{names[c],-14} {e.Confusion[c, 0],6}   {e.Confusion[c, 1],6}"));
        return sb.ToString();
    }

    public static object PerClass(EvaluationResult e) => Enumerable.Range(0, 2).Select(c => new
    {
        label = c,
        name = c == 0 ? "negative" : "positive",
        precision = e.Precision(c),
        recall = e.Recall(c),
    }).ToArray();

    public static long[][] Confusion(EvaluationResult e) =>
        Enumerable.Range(0, 2).Select(t => Enumerable.Range(0, 2).Select(p => e.Confusion[t, p]).ToArray()).ToArray();

    /// <summary>PNG of heads, λmax/θ_w (controller trace) and dev accuracy over training.</summary>
    public static void Plot(string path, HeadController? controller, IReadOnlyList<EvaluationResult> evals, IReadOnlyList<int> fixedHeads, long steps)
    {
        var panels = new List<LinePlot.Panel>();
        var rows = controller?.Trace.Rows ?? [];
        int layers = fixedHeads.Count;
        var headSeries = Enumerable.Range(0, layers).Select(l =>
        {
            var r = rows.Where(x => x.Layer == l).ToList();
            return r.Count > 0
                ? new LinePlot.Series($"layer {l}", r.Select(x => (double)x.Step).ToList(), r.Select(x => (double)x.Heads).ToList())
                : new LinePlot.Series($"layer {l}", [0.0, steps], [fixedHeads[l], fixedHeads[l]]);
        }).ToList();
        panels.Add(new LinePlot.Panel("Heads per layer", "optimizer step", "heads", headSeries));
        if (rows.Count > 0)
        {
            var ratio = Enumerable.Range(0, layers).Select(l =>
            {
                var r = rows.Where(x => x.Layer == l && double.IsFinite(x.ThetaW) && x.ThetaW > 0 && double.IsFinite(x.LambdaMax)).ToList();
                return new LinePlot.Series($"layer {l}", r.Select(x => (double)x.Step).ToList(), r.Select(x => x.LambdaMax / x.ThetaW).ToList());
            }).ToList();
            ratio.Add(new LinePlot.Series("growth threshold (1)", [0.0, steps], [1.0, 1.0]));
            panels.Add(new LinePlot.Panel("Residual energy λmax / θ_w (controller trace)", "optimizer step", "λmax / θ_w", ratio));
        }
        panels.Add(new LinePlot.Panel("Dev accuracy", "optimizer step", "accuracy",
            [new LinePlot.Series("dev", evals.Select(e => (double)e.Step).ToList(), evals.Select(e => e.Accuracy).ToList())]));
        LinePlot.Save(path, panels);
    }
}
