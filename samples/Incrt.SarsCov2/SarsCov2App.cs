using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Incrt.Control;
using Incrt.Models;
using Incrt.Persistence;
using Incrt.Samples.Common;
using Incrt.Tasks.Data.SarsCov2;
using Incrt.Training;
using Microsoft.Extensions.Logging;
using static Incrt.SarsCov2.SarsCov2Evaluation;

namespace Incrt.SarsCov2;

/// <summary>
/// The SARS-CoV-2 spike classification pipeline: simulate (or read) labelled spikes → stratified split → k-mer
/// tokenizer fitted on the training split → INCRT classifier from one head with the controller (or a fixed-head
/// baseline) → test metrics, robustness grid, <c>results.json</c>, trace CSV and PNG.
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

    /// <summary>Runs the pipeline. Returns the process exit code: 0 on success, 2 on a user error (one <c>error:</c>
    /// line on <paramref name="stderr"/>, no stack trace, nothing written).</summary>
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
            stderr.WriteLine($"error: {e.Message.ReplaceLineEndings(" ")}");
            return UserErrorExitCode;
        }
        finally
        {
            owned?.Dispose();
        }
    }

    /// <summary>The output folder of a training run: <c>--out</c>, else <c>runs/sarscov2-quick</c> with <c>--quick</c>
    /// and <c>runs/sarscov2</c> without.</summary>
    /// <param name="o">The options.</param>
    public static string OutputFolder(SarsCov2AppOptions o) =>
        o?.Out ?? Path.Combine("runs", o!.Quick ? "sarscov2-quick" : "sarscov2");

    /// <summary>The fixed head counts the issue asks to compare with: 1, 4, 12 and INCRT's final count (each at most the
    /// head cap, without repeats, ascending).</summary>
    /// <param name="incrtHeads">INCRT's final head count.</param>
    /// <param name="maxHeads">The head cap.</param>
    public static IReadOnlyList<int> FixedHeadCounts(int incrtHeads, int maxHeads) =>
        new[] { 1, 4, 12, incrtHeads }.Select(h => Math.Min(h, maxHeads)).Distinct().Order().ToList();

    private static void Validate(SarsCov2AppOptions o)
    {
        int stride = o.Stride ?? o.K;
        if (o.K < 1 || o.K > 8) throw new UsageException($"--k must be in 1..8 (got {o.K}).");
        if (stride < 1) throw new UsageException($"--stride must be at least 1 (got {stride}).");
        if (o.MaxLength < 2) throw new UsageException($"--max-length must be at least 2 ([CLS] + one k-mer; got {o.MaxLength}).");
        if (o.Heads < 1 || o.Heads > o.MaxHeads) throw new UsageException($"--heads must be in 1..--max-heads ({o.MaxHeads}); got {o.Heads}.");
        if (!(o.Dropout >= 0 && o.Dropout < 1)) throw new UsageException($"--dropout must be in [0, 1) (got {o.Dropout}).");
        if (!(o.AttentionDropout >= 0 && o.AttentionDropout < 1)) throw new UsageException($"--attention-dropout must be in [0, 1) (got {o.AttentionDropout}).");
        if (!(o.TokenDropout >= 0 && o.TokenDropout < 1)) throw new UsageException($"--token-dropout must be in [0, 1) (got {o.TokenDropout}).");
        if (o.ProbeEvery is < 1) throw new UsageException($"--probe-every must be at least 1 (got {o.ProbeEvery}).");
        if (o.PruneEvery is < 1) throw new UsageException($"--prune-every must be at least 1 (got {o.PruneEvery}).");
        if (o.TrialSteps is < 1) throw new UsageException($"--trial-steps must be at least 1 (got {o.TrialSteps}).");
        if (o.ProbeExamples is < 1) throw new UsageException($"--probe-examples must be at least 1 (got {o.ProbeExamples}).");
        if (o.GridPerClass < 0) throw new UsageException($"--grid-per-class must be at least 0 (got {o.GridPerClass}).");
        if (!ControllerChoice.IsValid(o.Controller)) throw new UsageException(ControllerChoice.InvalidMessage(o.Controller));
        if (o.NoTrain && o.WriteTsv is null) throw new UsageException("--no-train only makes sense with --write-tsv.");
    }

    private static int RunCore(SarsCov2AppOptions o, TextWriter stdout, ILoggerFactory logging, IProgressSink? progress)
    {
        var inv = CultureInfo.InvariantCulture;
        var wall = Stopwatch.StartNew();
        Validate(o);
        int stride = o.Stride ?? o.K;
        if (o.Eval is not null)
        {
            // `--eval <checkpoint> --data <tsv>`: in evaluation mode a --data that names a file is the labelled TSV
            // (the form the SST-2 sample uses); a folder keeps its usual meaning.
            if (o.Data is not null && File.Exists(o.Data))
            {
                if (o.InputTsv is not null) throw new UsageException("--eval: give the labelled TSV once, as --data <tsv> or --input-tsv <tsv>.");
                o = o with { InputTsv = o.Data, Data = null };
            }
            return SarsCov2Evaluation.Run(o, stdout);
        }
        if (o.Profiles) return PrintProfiles(o, stdout);
        if (o.Oracle) return SarsCov2Oracle.Run(o, stdout);

        var data = SarsCov2Inputs.Load(o);
        if (o.WriteTsv is null || !o.NoTrain)
        {
            if (data.Labels.Count < 2) throw new UsageException($"Need at least two classes; the data has {data.Labels.Count} ({string.Join(", ", data.Labels)}).");
            if (data.Train.Count == 0 || data.Test.Count == 0)
                throw new UsageException($"Too few records to split (train {data.Train.Count}, test {data.Test.Count}); each class needs at least 10 records for a test share.");
        }
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

        string outDir = OutputFolder(o);
        var device = SampleRuntime.Configure(o.Device, o.Threads, o.Seed);
        var tokenizer = KmerTokenizer.Fit(data.Train.Select(r => r.Sequence), o.K, stride);
        var encoder = new SpikeEncoder(tokenizer, o.MaxLength, data.Labels);
        var train = encoder.Encode(data.Train);
        var validation = encoder.Encode(data.Validation);
        var test = encoder.Encode(data.Test);
        int truncated = encoder.Truncated;
        var all = train.Sequences.Concat(validation.Sequences).Concat(test.Sequences).ToList();
        int maxTokens = all.Max(s => s.Length);
        double meanTokens = all.Average(s => s.Length);
        stdout.WriteLine(string.Create(inv,
            $"tokens: k={o.K} stride={stride}, vocabulary {tokenizer.VocabularySize}, {meanTokens:F1} tokens/sequence on average (max {maxTokens}, [CLS] included), {truncated} sequences truncated to --max-length {o.MaxLength}"));

        // Robustness grid: test sets simulated with shifted simulator settings (simulated tasks only).
        var grid = data.Catalog is not null && data.Task is SarsCov2Task gridTask && o.GridPerClass > 0
            ? RobustnessGrid.Build(data.Catalog, gridTask, o.GridPerClass, o.Seed) : [];
        var gridRows = new List<GridRow>();
        void ScoreGrid(string name, IncrtClassifier trained, int batchSize) =>
            gridRows.Add(RobustnessGrid.Evaluate(name, grid, records => encoder.Score(trained, records, batchSize, o.Seed, device)));

        var model = new IncrtModelOptions(tokenizer.VocabularySize, maxTokens, DModel: o.DModel, HeadDim: o.HeadDim,
            InitialHeads: o.Heads, MaxHeads: o.MaxHeads, Dropout: o.Dropout, AttentionDropout: o.AttentionDropout, TokenDropout: o.TokenDropout, Pooling: o.Pooling, Classes: data.Labels.Count, Seed: (ulong)o.Seed);
        int stepsPerEpoch = (train.Count + o.BatchSize - 1) / o.BatchSize;
        long totalSteps = (long)stepsPerEpoch * o.Epochs;
        var checkpointPath = Path.Combine(outDir, CheckpointFileName);
        string title = o.NoController ? $"fixed {o.Heads} heads" : "INCRT";
        var settings = new ExperimentSettings
        {
            Model = model,
            Trainer = new TrainerOptions
            {
                Epochs = o.Epochs,
                LearningRate = o.LearningRate,
                WarmupSteps = (int)Math.Max(1, totalSteps / 10),
                ProgressEvery = Math.Max(1, stepsPerEpoch / 2),
                EvaluationsPerEpoch = 2,
                ProbeExamples = o.ProbeExamples ?? new TrainerOptions().ProbeExamples,
            },
            Controller = o.NoController ? null : o.ControllerOptionsFor(totalSteps),
            BatchSize = o.BatchSize,
            Seed = o.Seed,
            Device = device,
            Logging = logging,
            Progress = stdout,
            ProgressSink = progress,
        };
        settings = settings with
        {
            OnTrained = (trained, optimizer, controller, testMetrics) =>
            {
                Directory.CreateDirectory(outDir);
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
                if (grid.Count > 0) ScoreGrid(title, trained, settings.EvaluationBatchSize);
            },
        };
        stdout.WriteLine(string.Create(inv,
            $"model: d_model {o.DModel}, head_dim {o.HeadDim}, {o.Heads} initial head(s), cap {o.MaxHeads}, dropout {o.Dropout}{(o.TokenDropout > 0 ? $", token dropout {o.TokenDropout}" : "")}, {(o.NoController ? "fixed heads (no controller)" : $"INCRT controller on (preset {ControllerChoice.Normalize(o.Controller)})")}; " +
            $"{o.Epochs} epochs × {stepsPerEpoch} steps (batch {o.BatchSize}), device {device}, torch threads {TorchSharp.torch.get_num_threads()}"));

        var result = ClassifierExperiment.Run(train, validation, test, data.Labels, settings);
        Directory.CreateDirectory(outDir);
        var files = ClassifierExperiment.WriteArtifacts(result, outDir, title).ToList();
        var vocabPath = Path.Combine(outDir, VocabFileName);
        tokenizer.Save(vocabPath);
        files.Add(vocabPath);
        files.Add(checkpointPath);
        var testTsv = Path.Combine(outDir, TestTsvFileName);
        SpikeTsv.WriteFile(testTsv, data.Test);
        files.Add(testTsv);
        var confusionPng = Path.Combine(outDir, "confusion.png");
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
                    ProgressSink = null,
                    OnTrained = grid.Count > 0 ? (trained, _, _, _) => ScoreGrid($"fixed H={h}", trained, settings.EvaluationBatchSize) : null,
                };
                var r = ClassifierExperiment.Run(train, validation, test, data.Labels, fixedSettings);
                fixedRuns.Add((h, r));
                stdout.WriteLine(string.Create(inv,
                    $"fixed-head baseline: H = {h}: test accuracy {r.Test.Accuracy:F3}, macro-F1 {r.Test.MacroF1:F3}, {r.Parameters:N0} parameters, {r.TrainSeconds:F1} s"));
            }
        }

        // Bag-of-k-mers baselines: on the whole sequence (the classic setting, saved as bow.json for --eval) and on the
        // residues INCRT sees (the window that --max-length leaves: (max-length − 2)·stride + k residues).
        var baselines = new List<(string Name, int? Residues, BagOfKmersResult Result)>();
        if (o.BaselineBow)
        {
            int window = (o.MaxLength - 2) * stride + o.K;
            bool truncates = data.All.Any(r => r.Sequence.Length > window);
            foreach (int? residues in truncates ? new int?[] { null, window } : [null])
            {
                string Cut(string s) => residues is int n && s.Length > n ? s[..n] : s;
                List<(string, int)> Pairs(IReadOnlyList<SpikeRecord> records) => records.Select(r => (Cut(r.Sequence), encoder.ClassOf(r))).ToList();
                string name = residues is int w ? $"bag-of-{o.K}-mers logistic regression, first {w} residues (INCRT's window)"
                    : $"bag-of-{o.K}-mers logistic regression, whole sequence";
                var bow = BagOfKmersBaseline.Run(Pairs(data.Train), Pairs(data.Validation), Pairs(data.Test), data.Labels, o.K, o.Seed, device);
                baselines.Add((name, residues, bow));
                var png = Path.Combine(outDir, residues is null ? "confusion-bow.png" : "confusion-bow-window.png");
                ConfusionPlot.Save(png, bow.Test, residues is int r ? $"bag-of-{o.K}-mers, first {r} residues" : $"bag-of-{o.K}-mers");
                files.Add(png);
                if (residues is null)
                {
                    var bowPath = Path.Combine(outDir, BagOfKmersModel.FileName);
                    bow.Model.Save(bowPath);
                    files.Add(bowPath);
                }
                if (grid.Count > 0)
                    gridRows.Add(RobustnessGrid.Evaluate(residues is null ? $"bag-of-{o.K}-mers" : $"bag-of-{o.K}-mers window", grid,
                        records => bow.Model.Score(Pairs(records))));
            }
        }

        var outcome = new SarsCov2Outcome(o, data, tokenizer, stride, maxTokens, meanTokens, truncated, result, title, fixedRuns, baselines,
            grid, gridRows, checkpointPath, testTsv, files, wall, settings.Controller);
        SarsCov2Report.Print(outcome, stdout);
        SarsCov2Report.WriteResults(outcome, outDir, stdout);
        return 0;
    }

    /// <summary><c>--profiles</c>: prints every class of the task with its lineages and each lineage's full mutation
    /// profile (ancestry resolved), the list the simulator draws from.</summary>
    private static int PrintProfiles(SarsCov2AppOptions o, TextWriter stdout)
    {
        var (folder, catalog) = SarsCov2Inputs.LoadCatalog(o.Data);
        var task = SarsCov2TaskBuilder.ParseTask(o.Task);
        stdout.WriteLine($"task {SarsCov2TaskBuilder.TaskName(task)}, mutation profiles from {folder} (ancestry, aliases and documented additions resolved):");
        foreach (var c in new SarsCov2TaskBuilder(catalog).GetClasses(task))
        {
            stdout.WriteLine($"{c.Label}:");
            foreach (var lineage in c.Lineages)
            {
                var profile = catalog.GetProfile(lineage);
                stdout.WriteLine($"  {lineage} ({profile.Count}; ancestry {string.Join(" > ", catalog.GetAncestors(lineage))}): {string.Join(' ', profile.Select(m => m.Name))}");
            }
        }
        return 0;
    }
}
