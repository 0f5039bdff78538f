using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Incrt.Control;
using Incrt.Data;
using Incrt.Data.SarsCov2;
using Incrt.Models;
using Incrt.Persistence;
using Incrt.Samples.Common;
using Incrt.Training;
using Microsoft.Extensions.Logging;

namespace Incrt.SarsCov2;

/// <summary>A user error (bad option combination, unusable data): printed without a stack trace, exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>
/// The SARS-CoV-2 spike classification pipeline: simulate (or read) labelled spikes → stratified split → k-mer
/// tokenizer fitted on the training split → INCRT classifier from one head with the controller (or a fixed-head
/// baseline) → test metrics, <c>results.json</c>, trace CSV and PNG.
/// </summary>
public static class SarsCov2App
{
    /// <summary>BERT-base parameter count used for the size ratio.</summary>
    public const double BertBaseParameters = 110e6;

    /// <summary>Exit code of a user error (bad input file, bad options).</summary>
    public const int UserErrorExitCode = 2;

    /// <summary>File name of the end-of-training checkpoint in the output folder.</summary>
    public const string CheckpointFileName = "model.incrt";

    /// <summary>File name of the tokenizer (vocabulary) saved next to the checkpoint.</summary>
    public const string VocabFileName = "vocab.txt";

    /// <summary>File name of the run's test split (id, label, sequence), for <c>--eval</c>.</summary>
    public const string TestTsvFileName = "test.tsv";

    private const string MetaSample = "sample", MetaLabels = "labels", MetaK = "k", MetaStride = "stride",
        MetaMaxLength = "maxLength", MetaTokenizer = "tokenizer", MetaSeed = "seed";

    /// <summary>Runs the pipeline. Returns the process exit code: 0 on success, 2 on a user error (message on
    /// <paramref name="stderr"/>, no stack trace).</summary>
    /// <param name="options">The settings.</param>
    /// <param name="stdout">Progress and report.</param>
    /// <param name="stderr">Error messages.</param>
    /// <param name="logging">Receives the controller's decisions; a console logger when null.</param>
    /// <param name="progress">Training progress (e.g. a live bar, <see cref="SampleConsole.Progress"/>); plain lines on
    /// <paramref name="stdout"/> when null.</param>
    public static int Run(SarsCov2AppOptions options, TextWriter stdout, TextWriter stderr, ILoggerFactory? logging = null,
        IProgressSink? progress = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        ILoggerFactory? owned = null;
        try
        {
            logging ??= owned = SampleRuntime.ConsoleLogging();
            return RunCore(options, stdout, logging, progress);
        }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException or DirectoryNotFoundException or ArgumentException or UsageException)
        {
            stderr.WriteLine($"error: {e.Message}");
            return UserErrorExitCode;
        }
        finally
        {
            owned?.Dispose();
        }
    }

    private sealed record Splits(string Source, IReadOnlyList<string> Labels, IReadOnlyList<SpikeRecord> Train,
        IReadOnlyList<SpikeRecord> Validation, IReadOnlyList<SpikeRecord> Test)
    {
        public IEnumerable<SpikeRecord> All => Train.Concat(Validation).Concat(Test);
    }

    private static int RunCore(SarsCov2AppOptions o, TextWriter stdout, ILoggerFactory logging, IProgressSink? progress)
    {
        var inv = CultureInfo.InvariantCulture;
        var wall = Stopwatch.StartNew();
        int stride = o.Stride ?? o.K;
        if (o.K < 1 || o.K > 8) throw new UsageException($"--k must be in 1..8 (got {o.K}).");
        if (stride < 1) throw new UsageException($"--stride must be at least 1 (got {stride}).");
        if (o.MaxLength < 2) throw new UsageException($"--max-length must be at least 2 ([CLS] + one k-mer; got {o.MaxLength}).");
        if (o.Heads < 1 || o.Heads > o.MaxHeads) throw new UsageException($"--heads must be in 1..--max-heads ({o.MaxHeads}); got {o.Heads}.");
        if (!(o.Dropout >= 0 && o.Dropout < 1)) throw new UsageException($"--dropout must be in [0, 1) (got {o.Dropout}).");
        if (!(o.AttentionDropout >= 0 && o.AttentionDropout < 1)) throw new UsageException($"--attention-dropout must be in [0, 1) (got {o.AttentionDropout}).");
        if (o.NoTrain && o.WriteTsv is null) throw new UsageException("--no-train only makes sense with --write-tsv.");
        if (o.Eval is not null)
        {
            // `--eval <checkpoint> --data <tsv>`: in evaluation mode a --data that names a file is the labelled TSV
            // (the form the SST-2 sample uses); a folder keeps its usual meaning.
            if (o.Data is not null && File.Exists(o.Data))
            {
                if (o.InputTsv is not null) throw new UsageException("--eval: give the labelled TSV once, as --data <tsv> or --input-tsv <tsv>.");
                o = o with { InputTsv = o.Data, Data = null };
            }
            return RunEval(o, stdout);
        }

        var data = Load(o);
        stdout.WriteLine($"data: {data.Source}");
        stdout.WriteLine($"classes ({data.Labels.Count}): {string.Join(", ", data.Labels)}");
        stdout.WriteLine($"split: train {data.Train.Count}, validation {data.Validation.Count}, test {data.Test.Count}");
        if (o.WriteTsv is not null)
        {
            var full = Path.GetFullPath(o.WriteTsv);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            SpikeTsv.WriteFile(full, data.All);
            stdout.WriteLine($"wrote {data.All.Count()} records to {full}");
            if (o.NoTrain) return 0;
        }
        if (data.Labels.Count < 2) throw new UsageException($"Need at least two classes; the data has {data.Labels.Count} ({string.Join(", ", data.Labels)}).");
        if (data.Train.Count == 0 || data.Test.Count == 0)
            throw new UsageException($"Too few records to split (train {data.Train.Count}, test {data.Test.Count}); each class needs at least 10 records for a test share.");

        var device = SampleRuntime.Configure(o.Device, o.Threads, o.Seed);
        var tokenizer = KmerTokenizer.Fit(data.Train.Select(r => r.Sequence), o.K, stride);
        var classIndex = data.Labels.Select((l, i) => (l, i)).ToDictionary(p => p.l, p => p.i, StringComparer.Ordinal);
        int truncated = 0;
        EncodedSplit Encode(IReadOnlyList<SpikeRecord> records)
        {
            var seqs = new List<int[]>(records.Count);
            foreach (var r in records)
            {
                int full = 1 + tokenizer.KmerCount(r.Sequence.Length);
                if (full > o.MaxLength) truncated++;
                seqs.Add(tokenizer.Encode(r.Sequence, Math.Max(1, Math.Min(o.MaxLength, full))));
            }
            return new EncodedSplit(seqs, records.Select(r => classIndex[r.Label]).ToList());
        }
        var train = Encode(data.Train);
        var validation = Encode(data.Validation);
        var test = Encode(data.Test);
        var all = train.Sequences.Concat(validation.Sequences).Concat(test.Sequences).ToList();
        int maxTokens = all.Max(s => s.Length);
        double meanTokens = all.Average(s => s.Length);
        stdout.WriteLine(string.Create(inv,
            $"tokens: k={o.K} stride={stride}, vocabulary {tokenizer.VocabularySize}, {meanTokens:F1} tokens/sequence on average (max {maxTokens}, [CLS] included), {truncated} sequences truncated to --max-length {o.MaxLength}"));

        var model = new IncrtModelOptions(tokenizer.VocabularySize, maxTokens, DModel: o.DModel, HeadDim: o.HeadDim,
            InitialHeads: o.Heads, MaxHeads: o.MaxHeads, Dropout: o.Dropout, AttentionDropout: o.AttentionDropout, Pooling: o.Pooling, Classes: data.Labels.Count, Seed: (ulong)o.Seed);
        int stepsPerEpoch = (train.Count + o.BatchSize - 1) / o.BatchSize;
        long totalSteps = (long)stepsPerEpoch * o.Epochs;
        var trainerOptions = new TrainerOptions
        {
            Epochs = o.Epochs,
            LearningRate = o.LearningRate,
            WarmupSteps = (int)Math.Max(1, totalSteps / 10),
            ProgressEvery = Math.Max(1, stepsPerEpoch / 2),
            EvaluationsPerEpoch = 2,
        };
        var checkpointPath = Path.Combine(o.Out, CheckpointFileName);
        var settings = new ExperimentSettings
        {
            Model = model,
            Trainer = trainerOptions,
            Controller = o.NoController ? null : new ControllerOptions { Prune = o.Prune, LeaveOneOutRatio = o.PruneRatio, Thresholds = o.Thresholds },
            BatchSize = o.BatchSize,
            Seed = o.Seed,
            Device = device,
            Logging = logging,
            Progress = stdout,
            ProgressSink = progress,
            OnTrained = (trained, optimizer, controller, testMetrics) =>
            {
                Directory.CreateDirectory(o.Out);
                IncrtCheckpoint.Save(checkpointPath, trained, optimizer, controller, new Dictionary<string, string>
                {
                    [MetaSample] = "Incrt.SarsCov2",
                    [MetaLabels] = JsonSerializer.Serialize(data.Labels),
                    [MetaK] = o.K.ToString(inv),
                    [MetaStride] = stride.ToString(inv),
                    [MetaMaxLength] = o.MaxLength.ToString(inv),
                    [MetaTokenizer] = VocabFileName,
                    [MetaSeed] = o.Seed.ToString(inv),
                    ["source"] = data.Source,
                    ["testAccuracy"] = testMetrics.Accuracy.ToString("R", inv),
                    ["testMacroF1"] = testMetrics.MacroF1.ToString("R", inv),
                });
            },
        };
        stdout.WriteLine(string.Create(inv,
            $"model: d_model {o.DModel}, head_dim {o.HeadDim}, {o.Heads} initial head(s), cap {o.MaxHeads}, {(o.NoController ? "fixed heads (no controller)" : "INCRT controller on")}; " +
            $"{o.Epochs} epochs × {stepsPerEpoch} steps (batch {o.BatchSize}), device {device}, torch threads {TorchSharp.torch.get_num_threads()}"));

        var result = ClassifierExperiment.Run(train, validation, test, data.Labels, settings);
        Directory.CreateDirectory(o.Out);
        string title = o.NoController ? $"fixed {o.Heads} heads" : "INCRT";
        var files = ClassifierExperiment.WriteArtifacts(result, o.Out, title).ToList();
        var vocabPath = Path.Combine(o.Out, VocabFileName);
        tokenizer.Save(vocabPath);
        files.Add(vocabPath);
        files.Add(checkpointPath);
        var testTsv = Path.Combine(o.Out, TestTsvFileName);
        SpikeTsv.WriteFile(testTsv, data.Test);
        files.Add(testTsv);
        var confusionPng = Path.Combine(o.Out, "confusion.png");
        ConfusionPlot.Save(confusionPng, result.Test, $"{title}, test set");
        files.Add(confusionPng);

        // Fixed-head transformers in the same harness: same split, batches, schedule and seed; only the controller is
        // off and the head count is fixed from the first step.
        var fixedRuns = new List<(int Heads, ExperimentResult Result)>();
        if (o.BaselineFixed && !o.NoController)
        {
            foreach (int h in FixedHeadCounts(result.Heads[0], o.MaxHeads))
            {
                stdout.WriteLine($"fixed-head baseline: H = {h} ...");
                var fixedSettings = settings with
                {
                    Model = model with { InitialHeads = h },
                    Controller = null,
                    Logging = null,
                    Progress = null,
                    OnTrained = null,
                };
                var r = ClassifierExperiment.Run(train, validation, test, data.Labels, fixedSettings);
                fixedRuns.Add((h, r));
                stdout.WriteLine(string.Create(inv,
                    $"fixed-head baseline: H = {h}: test accuracy {r.Test.Accuracy:F3}, macro-F1 {r.Test.MacroF1:F3}, {r.Parameters:N0} parameters, {r.TrainSeconds:F1} s"));
            }
        }

        // Bag-of-k-mers baselines: on the whole sequence (the classic setting) and on the residues INCRT sees
        // (the window that --max-length leaves: (max-length − 2)·stride + k residues).
        var baselines = new List<(string Name, int? Residues, BagOfKmersResult Result)>();
        if (o.BaselineBow)
        {
            int window = (o.MaxLength - 2) * stride + o.K;
            bool truncates = data.All.Any(r => r.Sequence.Length > window);
            foreach (int? residues in truncates ? new int?[] { null, window } : [null])
            {
                List<(string, int)> Pairs(IReadOnlyList<SpikeRecord> records) =>
                    records.Select(r => (residues is int n && r.Sequence.Length > n ? r.Sequence[..n] : r.Sequence, classIndex[r.Label])).ToList();
                string name = residues is int w ? $"bag-of-{o.K}-mers logistic regression, first {w} residues (INCRT's window)"
                    : $"bag-of-{o.K}-mers logistic regression, whole sequence";
                var bow = BagOfKmersBaseline.Run(Pairs(data.Train), Pairs(data.Validation), Pairs(data.Test), data.Labels, o.K, o.Seed, device);
                baselines.Add((name, residues, bow));
                var png = Path.Combine(o.Out, residues is null ? "confusion-bow.png" : "confusion-bow-window.png");
                ConfusionPlot.Save(png, bow.Test, residues is int r ? $"bag-of-{o.K}-mers, first {r} residues" : $"bag-of-{o.K}-mers");
                files.Add(png);
            }
        }

        int? predictedHeads = result.Prediction?.PredictedHeads;
        double? predictionError = predictedHeads is int p && result.Heads.Count > 0
            ? Math.Abs(p - result.Heads[0]) / (double)result.Heads[0] : null;
        double ratio = BertBaseParameters / result.Parameters;
        var m = result.Test;
        stdout.WriteLine();
        stdout.WriteLine("test set:");
        stdout.Write(m.ToText());
        stdout.WriteLine(string.Create(inv,
            $"heads {string.Join(",", result.Heads)} (grew {result.Grown}, pruned {result.Pruned}, converged {(result.Converged?.ToString() ?? "n/a")}); " +
            $"parameters {result.Parameters:N0} = BERT-base (110M) / {ratio:F0}; predicted heads {(predictedHeads is int ph ? string.Create(inv, $"{ph} (error {predictionError:P0})") : "n/a")}"));
        stdout.WriteLine(string.Create(inv, $"training {result.TrainSeconds:F1} s for {result.Steps} steps; total {wall.Elapsed.TotalSeconds:F1} s"));
        foreach (var (name, _, bow) in baselines)
        {
            stdout.WriteLine();
            stdout.WriteLine(string.Create(inv,
                $"{name} ({bow.Features} features, {bow.Parameters:N0} parameters, {bow.Steps} full-batch AdamW steps, {bow.Seconds:F1} s), test set:"));
            stdout.Write(bow.Test.ToText());
        }
        if (baselines.Count > 0 || fixedRuns.Count > 0)
        {
            stdout.WriteLine();
            int w = Math.Max(30, baselines.Select(b => b.Name.Length).DefaultIfEmpty(0).Max());
            stdout.WriteLine($"{"model".PadRight(w)}  test accuracy  macro-F1  parameters");
            stdout.WriteLine(string.Create(inv, $"{title.PadRight(w)}  {m.Accuracy,13:F3} {m.MacroF1,9:F3} {result.Parameters,11:N0}"));
            foreach (var (h, r) in fixedRuns)
                stdout.WriteLine(string.Create(inv, $"{$"fixed {h} heads (no controller)".PadRight(w)}  {r.Test.Accuracy,13:F3} {r.Test.MacroF1,9:F3} {r.Parameters,11:N0}"));
            foreach (var (name, _, bow) in baselines)
                stdout.WriteLine(string.Create(inv, $"{name.PadRight(w)}  {bow.Test.Accuracy,13:F3} {bow.Test.MacroF1,9:F3} {bow.Parameters,11:N0}"));
        }
        stdout.WriteLine($"checkpoint: {checkpointPath} (re-evaluate with --eval {checkpointPath} --input-tsv {testTsv})");

        var resultsPath = Path.Combine(o.Out, "results.json");
        ResultsFile.Write(resultsPath, new
        {
            sample = "Incrt.SarsCov2",
            data = new
            {
                source = data.Source,
                simulated = o.InputTsv is null && o.Fasta is null,
                task = o.InputTsv is null && o.Fasta is null ? o.Task : null,
                perClass = o.InputTsv is null && o.Fasta is null ? o.PerClass : (int?)null,
                labels = data.Labels,
                train = data.Train.Count,
                validation = data.Validation.Count,
                test = data.Test.Count,
            },
            tokenizer = new { k = o.K, stride, vocabulary = tokenizer.VocabularySize, maxLength = o.MaxLength, maxTokens, meanTokens, truncated },
            settings = new
            {
                o.Seed, o.Epochs, o.BatchSize, o.LearningRate, o.DModel, o.HeadDim, initialHeads = o.Heads, o.MaxHeads,
                controller = !o.NoController, prune = o.Prune.ToString(), pruneRatio = o.PruneRatio, thresholds = o.Thresholds.ToString(), o.Threads, device = device.ToString(), quick = o.Quick,
            },
            test = new
            {
                accuracy = m.Accuracy,
                macroF1 = m.MacroF1,
                perClass = m.Classes.Select(c => new { label = c.Label, support = c.Support, precision = c.Precision, recall = c.Recall, f1 = c.F1 }),
                confusion = m.Confusion,
            },
            validation = result.Validation.Select(e => new { step = e.Step, accuracy = e.Accuracy, loss = e.Loss }),
            heads = new
            {
                final = result.Heads,
                grown = result.Grown,
                pruned = result.Pruned,
                converged = result.Converged,
                predicted = predictedHeads,
                predictedRelativeError = predictionError,
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
            parameters = result.Parameters,
            bertBaseRatio = ratio,
            checkpoint = Path.GetFileName(checkpointPath),
            baselines = baselines.Select(b => new
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
                test = new
                {
                    accuracy = b.Result.Test.Accuracy,
                    macroF1 = b.Result.Test.MacroF1,
                    perClass = b.Result.Test.Classes.Select(c => new { label = c.Label, support = c.Support, precision = c.Precision, recall = c.Recall, f1 = c.F1 }),
                    confusion = b.Result.Test.Confusion,
                },
            }),
            fixedHeadBaselines = fixedRuns.Select(f => new
            {
                heads = f.Heads,
                parameters = f.Result.Parameters,
                trainSeconds = f.Result.TrainSeconds,
                test = new { accuracy = f.Result.Test.Accuracy, macroF1 = f.Result.Test.MacroF1, confusion = f.Result.Test.Confusion },
            }),
            steps = result.Steps,
            trainSeconds = result.TrainSeconds,
            totalSeconds = wall.Elapsed.TotalSeconds,
            files = files.Select(Path.GetFileName),
        });
        stdout.WriteLine($"wrote {resultsPath}, {string.Join(", ", files.Select(Path.GetFileName))}");
        return 0;
    }

    /// <summary>The fixed head counts the issue asks to compare with: 1, 4, 12 and INCRT's final count (each at most the
    /// head cap, without repeats, ascending).</summary>
    public static IReadOnlyList<int> FixedHeadCounts(int incrtHeads, int maxHeads) =>
        new[] { 1, 4, 12, incrtHeads }.Select(h => Math.Min(h, maxHeads)).Distinct().Order().ToList();

    /// <summary>
    /// Evaluation-only mode: reloads the checkpoint and the tokenizer saved next to it, encodes every record of the
    /// labelled data (no split) exactly as training did, and prints accuracy, macro-F1, per-class precision/recall/F1
    /// and the confusion matrix; writes <c>eval-confusion.png</c> into <c>--out</c>.
    /// </summary>
    private static int RunEval(SarsCov2AppOptions o, TextWriter stdout)
    {
        var inv = CultureInfo.InvariantCulture;
        RequireFile(o.Eval!, "--eval");
        if (o.InputTsv is null && o.Fasta is null && o.Labels is null)
            throw new UsageException("--eval needs labelled data: --input-tsv <tsv> or --fasta <fasta> --labels <table>.");
        if (o.WriteTsv is not null || o.BaselineBow) throw new UsageException("--eval cannot be combined with --write-tsv or --baseline-bow.");
        var records = LoadUserRecords(o);
        var device = SampleRuntime.Configure(o.Device, o.Threads, o.Seed);
        var checkpoint = IncrtCheckpoint.Load(o.Eval!, device);
        using var model = checkpoint.Model;
        var meta = checkpoint.Metadata;
        string Meta(string key) => meta.TryGetValue(key, out var v) ? v
            : throw new UsageException($"--eval {o.Eval}: the checkpoint has no '{key}' metadata; was it written by this sample?");
        var labels = JsonSerializer.Deserialize<List<string>>(Meta(MetaLabels))
            ?? throw new UsageException($"--eval {o.Eval}: empty label list in the checkpoint metadata.");
        int k = int.Parse(Meta(MetaK), inv), stride = int.Parse(Meta(MetaStride), inv), maxLength = int.Parse(Meta(MetaMaxLength), inv);
        var vocabPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(o.Eval!))!, Meta(MetaTokenizer));
        RequireFile(vocabPath, "tokenizer next to the checkpoint");
        var tokenizer = KmerTokenizer.Load(vocabPath);
        if (tokenizer.K != k || tokenizer.Stride != stride || tokenizer.VocabularySize != model.Options.VocabSize)
            throw new UsageException($"{vocabPath}: k={tokenizer.K} stride={tokenizer.Stride} vocabulary {tokenizer.VocabularySize} does not match the checkpoint (k={k} stride={stride} vocabulary {model.Options.VocabSize}).");

        var classIndex = labels.Select((l, i) => (l, i)).ToDictionary(p => p.l, p => p.i, StringComparer.Ordinal);
        var unknown = records.FirstOrDefault(r => !classIndex.ContainsKey(r.Label));
        if (unknown is not null)
            throw new UsageException($"record '{unknown.Id}' has label '{unknown.Label}', which the model was not trained on (its classes: {string.Join(", ", labels)}).");
        int limit = (int)Math.Min(maxLength, model.Options.MaxLength);
        var sequences = records.Select(r => tokenizer.Encode(r.Sequence, Math.Max(1, Math.Min(limit, 1 + tokenizer.KmerCount(r.Sequence.Length))))).ToList();
        var batches = new LengthBucketBatcher(sequences, records.Select(r => classIndex[r.Label]).ToList(), new ExperimentSettings { Model = model.Options }.EvaluationBatchSize, o.Seed, device);
        var evaluation = Trainer.Evaluate(model, batches);
        var metrics = ClassificationMetrics.From(labels, evaluation.Confusion);

        stdout.WriteLine(string.Create(inv,
            $"checkpoint: {o.Eval} (heads {string.Join(",", checkpoint.HeadCounts)}, {model.ParameterCount():N0} parameters, k={k} stride={stride} max length {maxLength})"));
        stdout.WriteLine(string.Create(inv, $"evaluated {records.Count} records of {o.InputTsv ?? o.Fasta}:"));
        stdout.Write(metrics.ToText());
        Directory.CreateDirectory(o.Out);
        var png = Path.Combine(o.Out, "eval-confusion.png");
        ConfusionPlot.Save(png, metrics, $"{Path.GetFileName(o.Eval)} on {Path.GetFileName(o.InputTsv ?? o.Fasta)}");
        stdout.WriteLine($"wrote {png}");
        return 0;
    }

    private static IReadOnlyList<SpikeRecord> LoadUserRecords(SarsCov2AppOptions o)
    {
        bool tsv = o.InputTsv is not null, fasta = o.Fasta is not null || o.Labels is not null;
        if (tsv && fasta) throw new UsageException("Give either --input-tsv or --fasta with --labels, not both.");
        if (fasta && (o.Fasta is null || o.Labels is null)) throw new UsageException("--fasta and --labels must be given together.");
        if (tsv)
        {
            RequireFile(o.InputTsv!, "--input-tsv");
            return SpikeTsv.ReadFile(o.InputTsv!);
        }
        RequireFile(o.Fasta!, "--fasta");
        RequireFile(o.Labels!, "--labels");
        return LabelledFasta.ReadFiles(o.Fasta!, o.Labels!);
    }

    private static Splits Load(SarsCov2AppOptions o)
    {
        if (o.InputTsv is not null || o.Fasta is not null || o.Labels is not null)
        {
            var records = LoadUserRecords(o);
            return SplitUserData(o.InputTsv is not null ? $"user TSV {o.InputTsv}" : $"user FASTA {o.Fasta} with labels {o.Labels}", records, o.Seed);
        }
        if (o.PerClass < 1) throw new UsageException($"--per-class must be at least 1 (got {o.PerClass}).");
        var task = SarsCov2TaskBuilder.ParseTask(o.Task);
        var folder = ResolveSarsCov2Folder(o.Data);
        var catalog = LineageCatalog.LoadDirectory(folder);
        var dataset = new SarsCov2TaskBuilder(catalog).Build(task, o.PerClass, o.Seed);
        return new Splits($"simulated task {SarsCov2TaskBuilder.TaskName(task)}, {o.PerClass} per class, seed {o.Seed}, from {folder}",
            dataset.Labels, dataset.Train, dataset.Validation, dataset.Test);
    }

    /// <summary>The folder holding <c>voc_spike_mutations.tsv</c>: <paramref name="data"/> itself when it holds the
    /// table, else its <c>sarscov2</c> subfolder; <see cref="DataPaths.Resolve(string?)"/> when null.</summary>
    private static string ResolveSarsCov2Folder(string? data)
    {
        if (data is not null && File.Exists(Path.Combine(data, LineageCatalog.MutationTableFileName))) return Path.GetFullPath(data);
        var root = DataPaths.Resolve(data);
        var folder = Path.Combine(root, "sarscov2");
        if (!File.Exists(Path.Combine(folder, LineageCatalog.MutationTableFileName)))
            throw new UsageException($"No {LineageCatalog.MutationTableFileName} in {root} or {folder}; pass --data <folder> (the shared data folder or its sarscov2 subfolder).");
        return folder;
    }

    private static void RequireFile(string path, string option)
    {
        if (!File.Exists(path)) throw new UsageException($"{option}: file not found: {Path.GetFullPath(path)}");
    }

    /// <summary>Stratified split of user data: per label (labels in ordinal order), a seeded shuffle, then 10% to
    /// validation and 10% to test (rounded) and the rest to training.</summary>
    private static Splits SplitUserData(string source, IReadOnlyList<SpikeRecord> records, int seed)
    {
        if (records.Count == 0) throw new UsageException($"{source}: no records.");
        var labels = records.Select(r => r.Label).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var random = new Random(seed);
        List<SpikeRecord> train = [], validation = [], test = [];
        foreach (var label in labels)
        {
            var members = records.Where(r => r.Label == label).ToArray();
            random.Shuffle(members);
            int nVal = (int)Math.Round(members.Length * 0.1, MidpointRounding.AwayFromZero);
            int nTest = (int)Math.Round(members.Length * 0.1, MidpointRounding.AwayFromZero);
            validation.AddRange(members.Take(nVal));
            test.AddRange(members.Skip(nVal).Take(nTest));
            train.AddRange(members.Skip(nVal + nTest));
        }
        return new Splits(source, labels, train, validation, test);
    }
}
