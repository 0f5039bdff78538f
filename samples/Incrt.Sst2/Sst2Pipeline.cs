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
    HeadCountPrediction? Prediction = null, HeadCountPrediction? PredictionAfterCalibration = null, PretrainingOutcome? Pretraining = null);

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
        ControllerChoice.Build(s.Controller, totalSteps, s.Thresholds, probeEvery: s.ProbeEvery, pruneEvery: s.PruneEvery, trialSteps: s.TrialSteps);

    /// <summary>Warm-up steps of a run of <paramref name="totalSteps"/> steps: the setting, at most a tenth of the run.</summary>
    public static int WarmupSteps(Sst2Settings s, long totalSteps) => (int)Math.Min(s.WarmupSteps, Math.Max(1, totalSteps / 10));

    /// <summary>Trains one model. <paramref name="fixedHeads"/> (per layer) disables the controller; null = INCRT.</summary>
    public static RunOutcome Train(string name, Sst2Settings s, Sst2Data data, Device device, IReadOnlyList<int>? fixedHeads,
        IProgressSink progress, ILoggerFactory? loggers, Action<IncrtClassifier, Trainer, HeadController?, IReadOnlyList<EvaluationResult>>? after = null,
        TextWriter? log = null)
    {
        manual_seed(s.Seed);
        int initial = fixedHeads?.Min() ?? 1;
        int maxHeads = Math.Max(s.MaxHeads, fixedHeads?.Max() ?? 1);
        var options = new IncrtModelOptions(data.Vocabulary.Count, s.MaxLength, s.DModel, s.HeadDim, s.Layers, initial, maxHeads,
            s.Ffn, s.Dropout, HeadAggregation.Concat, s.Pooling, Classes: 2, Seed: (ulong)s.Seed, AttentionDropout: s.AttentionDropout, PreNorm: s.PreNorm, EmbeddingStd: s.EmbeddingStd, TokenDropout: s.TokenDropout, BagOfWordsScale: s.BagOfWords);
        using var model = new IncrtClassifier(options, device);
        RunOutcome? outcome = null;
        if (fixedHeads is not null)
            for (int l = 0; l < model.GrowableLayers.Count; l++)
                while (model.GrowableLayers[l].HeadCount < fixedHeads[Math.Min(l, fixedHeads.Count - 1)])
                    model.GrowableLayers[l].AddHead(HeadInit.Random);
        // Optional self-supervised start (the same for INCRT and every baseline); re-seeding keeps the classifier's
        // training draws the same with or without it.
        PretrainingOutcome? pretraining = null;
        if (s.PretrainSteps > 0)
        {
            pretraining = MaskedTokenPretraining.Run(model, data, s, device, log ?? TextWriter.Null);
            manual_seed(s.Seed);
        }

        var train = new LengthBucketBatcher(data.TrainIds, data.Train.Select(r => r.Label).ToArray(), s.BatchSize, s.Seed, device);
        var dev = EvalBatcher(data.DevIds, data.Dev, device);
        long total = SampleTraining.TotalSteps(train, s.Epochs);
        var run = new TrainingRunSettings
        {
            Name = name,
            Trainer = new TrainerOptions
            {
                Epochs = s.Epochs, LearningRate = s.LearningRate, WeightDecay = s.WeightDecay, WarmupSteps = WarmupSteps(s, total),
                ProgressEvery = s.ProgressEvery, EvaluationsPerEpoch = s.EvalsPerEpoch,
                ProbeExamples = s.ProbeExamples ?? new TrainerOptions().ProbeExamples, AdversarialNorm = s.Adversarial,
            },
            Controller = fixedHeads is null ? ControllerOptionsFor(s, total) : null,
            Train = train,
            Validation = dev,
            // Re-seeding after the prediction keeps training identical with or without it.
            SeedAfterPrediction = s.Seed,
            Logging = loggers,
            Progress = progress,
        };
        SampleTraining.Run(model, run, trained =>
        {
            var evals = trained.Result.Validation;
            var final = evals.Count > 0 ? evals[^1] : trained.Trainer.Evaluate(dev);
            outcome = new RunOutcome(name, trained.Result.Heads, trained.Result.Parameters, final.Accuracy, evals.Select(e => e.Accuracy).DefaultIfEmpty(final.Accuracy).Max(),
                trained.Result.TrainSeconds, trained.Result.TrainCpuSeconds, trained.Result.Steps, final, evals, trained.Result.Prediction, trained.Result.PredictionAfterCalibration, pretraining);
            after?.Invoke(trained.Model, trained.Trainer, trained.Controller, evals);
        });
        return outcome!;
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
}
