using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Incrt.Control;
using Incrt.Models;
using Incrt.Persistence;
using Incrt.Samples.Common;
using Incrt.Tasks.Data;
using Incrt.Training;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace Incrt.Sst2;

/// <summary>Command line of the SST-2 sample: training (default), --baselines, or --eval.</summary>
internal static class Sst2App
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Parses <paramref name="args"/> and runs; output goes to <paramref name="output"/> and errors to
    /// <paramref name="error"/> (console by default). Returns the process exit code (0 ok, 1 checkpoint did not
    /// reproduce the accuracy, 2 bad input or bad options).</summary>
    /// <remarks>With a caller-supplied <paramref name="output"/> progress is always plain text; on the console,
    /// <c>--progress</c> chooses between plain lines and a live bar.</remarks>
    public static int Run(string[] args, TextWriter? output = null, TextWriter? error = null, bool consoleLogging = true)
    {
        var err = error ?? Console.Error;
        var d = new Sst2Settings();
        var data = new Option<string?>("--data") { Description = "Training: a folder with train.tsv and dev.tsv, or the shared data folder holding sst2/ (default: <repo>/../shared/data, or $INCRT_DATA). With --eval: the TSV file to score (default: the dev file)." };
        var outDir = new Option<string?>("--out") { Description = $"Output folder (results.json, plot, trace, checkpoint); default {d.Out}, with --quick {Sst2Settings.QuickOut}." };
        var epochs = new Option<int?>("--epochs") { Description = $"Passes over the training data (default {d.Epochs}; --quick 1; --full 10)." };
        var full = new Option<bool>("--full") { Description = "Longer run: 10 epochs (≈3× the default time)." };
        var quick = new Option<bool>("--quick") { Description = "Smoke run: a seeded 20,000-row subset of train, 1 epoch (313 steps)." };
        var trainRows = new Option<int?>("--train-rows") { Description = "Use a seeded random subset of this many training rows." };
        var batch = new Option<int>("--batch-size") { DefaultValueFactory = _ => d.BatchSize, Description = "Training batch size." };
        var dModel = new Option<long>("--d-model") { DefaultValueFactory = _ => d.DModel, Description = "Model width d." };
        var headDim = new Option<long>("--head-dim") { DefaultValueFactory = _ => d.HeadDim, Description = "Per-head width d_k." };
        var maxHeads = new Option<int>("--max-heads") { DefaultValueFactory = _ => d.MaxHeads, Description = "Head cap per layer." };
        var layers = new Option<int>("--layers") { DefaultValueFactory = _ => d.Layers, Description = "Growable attention blocks." };
        var ffn = new Option<long>("--ffn") { DefaultValueFactory = _ => d.Ffn, Description = "FFN hidden width after each block (0 = none, as in the paper)." };
        var maxLength = new Option<int>("--max-length") { DefaultValueFactory = _ => d.MaxLength, Description = "Tokens per sentence incl. [CLS] (longer are cut; SST-2 max is 53)." };
        var minFreq = new Option<int>("--min-freq") { DefaultValueFactory = _ => d.MinFreq, Description = "Minimum training frequency for a word to get its own id." };
        var pieces = new Option<int>("--pieces") { DefaultValueFactory = _ => d.PieceMinTypes, Description = "Word pieces shared by at least this many distinct training words split rarer and unseen words (WordPiece-style); 0 = whole words only ([UNK] for unseen words)." };
        var lr = new Option<double>("--lr") { DefaultValueFactory = _ => d.LearningRate, Description = "Peak AdamW learning rate." };
        var dropout = new Option<double>("--dropout") { DefaultValueFactory = _ => d.Dropout, Description = "Dropout." };
        var attnDropout = new Option<double>("--attention-dropout") { DefaultValueFactory = _ => d.AttentionDropout, Description = "Dropout on the attention weights (0 keeps the fused CPU attention kernel)." };
        var weightDecay = new Option<double>("--weight-decay") { DefaultValueFactory = _ => d.WeightDecay, Description = "AdamW weight decay." };
        var embeddingStd = new Option<double?>("--embedding-std") { Description = "Std of the token and position embeddings' initial draw (default: PyTorch's N(0, 1))." };
        var pretrain = new Option<int>("--pretrain-steps") { DefaultValueFactory = _ => d.PretrainSteps, Description = "Masked-token pre-training steps on the training sentences (labels unused) before the classifier is trained; 0 = none." };
        var probeExamples = new Option<int?>("--probe-examples") { Description = "Loss preset: training examples in the probe batch that judges heads (default: the trainer's, 128)." };
        var probeEvery = new Option<int?>("--probe-every") { Description = "Loss preset: steps between masking probes of a trial head (default: the preset's, 50)." };
        var pruneEvery = new Option<int?>("--prune-every") { Description = "Loss preset: steps between two prune checks (default: the preset's, 200)." };
        var trialSteps = new Option<int?>("--trial-steps") { Description = "Loss preset: steps a trial head has to become useful before it is withdrawn (default: the preset's, 300)." };
        var pretrainGrow = new Option<bool>("--pretrain-grow") { Description = "Run the controller during pre-training too, on the masked-token loss (needs --pretrain-steps)." };
        var tokenDropout = new Option<double>("--token-dropout") { DefaultValueFactory = _ => d.TokenDropout, Description = "Word dropout in training: probability of zeroing a whole token's embedding." };
        var bagOfWords = new Option<double>("--bag-of-words") { DefaultValueFactory = _ => d.BagOfWords, Description = "Scale c of a linear bag-of-words term c·Σ_t W[id_t] added to the classifier's logits (IncrtModelOptions.BagOfWordsScale); 0 = the transformer alone." };
        var adversarial = new Option<double>("--adversarial") { DefaultValueFactory = _ => d.Adversarial, Description = "Adversarial training on the token embeddings: norm ε of the table's move along its gradient (TrainerOptions.AdversarialNorm); 0 = off." };
        var preNorm = new Option<bool>("--prenorm") { DefaultValueFactory = _ => d.PreNorm, Description = "Pre-norm blocks X + Attn(LN(X)) (default); --prenorm false for post-norm LN(X + Attn(X)), the layout before issue 17." };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => d.Seed, Description = "Seed (weights, batching, subsets)." };
        var threads = new Option<int>("--threads")
        {
            DefaultValueFactory = _ => d.Threads,
            Description = "Torch intra-op threads (0 = torch default). Default 1: the layers are small, and on a shared 2-core machine one thread was measured ≈30× faster than two.",
        };
        var device = new Option<string>("--device") { DefaultValueFactory = _ => d.Device, Description = "cpu | cuda | cuda:N | auto." };
        var noController = new Option<bool>("--no-controller") { Description = "Fixed architecture (no growth/pruning); heads from --heads (default 1)." };
        var heads = new Option<int?>("--heads") { Description = "Fixed head count per layer (implies --no-controller)." };
        var pooling = new Option<Pooling>("--pooling") { DefaultValueFactory = _ => d.Pooling, Description = "MaskedMean (default: measured to learn faster here than Cls with one layer), MaskedMax or Cls (README: three seeds each)." };
        var controllerPreset = new Option<string>("--controller") { DefaultValueFactory = _ => d.Controller, Description = ControllerChoice.Description, HelpName = string.Join("|", ControllerChoice.Names) };
        var thresholds = new Option<ThresholdMode?>("--thresholds") { Description = "What θ_w is a fraction of: Relative (the energy and loss presets'), RelativePositive (the operator's positive part) or Calibrated (the paper preset's); default the --controller preset's (docs/algorithm.md §4).", HelpName = string.Join("|", Enum.GetNames<ThresholdMode>()) };
        var evals = new Option<int>("--evals-per-epoch") { DefaultValueFactory = _ => d.EvalsPerEpoch, Description = "Dev evaluations per epoch (for the accuracy curve)." };
        var baselines = new Option<bool>("--baselines") { Description = "After the INCRT run, train a bag-of-words logistic regression (same vocabulary) and fixed H per layer from --baseline-heads and H = INCRT's final count with the same settings, and print a table." };
        var baselineHeads = new Option<string>("--baseline-heads") { DefaultValueFactory = _ => string.Join(",", d.BaselineHeads), Description = "Comma list of fixed head counts (per layer) that --baselines trains." };
        var eval = new Option<string?>("--eval") { Description = "Evaluation only: a checkpoint (model.incrt) to score on --data <tsv>; several, comma-separated, also score their ensemble (mean class probabilities)." };
        var progress = ProgressOption.Create();

        var root = new RootCommand("INCRT on SST-2 (GLUE binary sentiment): train a model that starts with one attention head and grows/prunes heads while training; report dev accuracy, heads and size.");
        foreach (var o in new Option[] { data, outDir, epochs, full, quick, trainRows, batch, dModel, headDim, maxHeads, layers, ffn, maxLength, minFreq, pieces, lr, dropout, attnDropout, weightDecay, embeddingStd, tokenDropout, adversarial, bagOfWords, pretrain, pretrainGrow, probeEvery, pruneEvery, trialSteps, probeExamples, preNorm,
                     seed, threads, device, noController, heads, pooling, controllerPreset, thresholds, evals, baselines, baselineHeads, eval, progress })
            root.Options.Add(o);

        root.SetAction(p =>
        {
            bool isQuick = p.GetValue(quick);
            var s = new Sst2Settings
            {
                Data = p.GetValue(data), Out = p.GetValue(outDir) ?? (isQuick ? Sst2Settings.QuickOut : d.Out),
                Epochs = p.GetValue(epochs) ?? (isQuick ? 1 : p.GetValue(full) ? 10 : d.Epochs),
                Quick = isQuick, TrainRows = p.GetValue(trainRows) ?? (isQuick ? 20000 : null),
                BatchSize = p.GetValue(batch), DModel = p.GetValue(dModel), HeadDim = p.GetValue(headDim), MaxHeads = p.GetValue(maxHeads),
                Layers = p.GetValue(layers), Ffn = p.GetValue(ffn), MaxLength = p.GetValue(maxLength), MinFreq = p.GetValue(minFreq), PieceMinTypes = p.GetValue(pieces),
                LearningRate = p.GetValue(lr), Dropout = p.GetValue(dropout), AttentionDropout = p.GetValue(attnDropout), WeightDecay = p.GetValue(weightDecay), EmbeddingStd = p.GetValue(embeddingStd), TokenDropout = p.GetValue(tokenDropout), Adversarial = p.GetValue(adversarial), BagOfWords = p.GetValue(bagOfWords), PretrainSteps = p.GetValue(pretrain), PretrainGrowth = p.GetValue(pretrainGrow), ProbeEvery = p.GetValue(probeEvery), PruneEvery = p.GetValue(pruneEvery), TrialSteps = p.GetValue(trialSteps), ProbeExamples = p.GetValue(probeExamples), PreNorm = p.GetValue(preNorm), Seed = p.GetValue(seed), Threads = p.GetValue(threads),
                Device = p.GetValue(device)!, NoController = p.GetValue(noController), Heads = p.GetValue(heads), Pooling = p.GetValue(pooling),
                Controller = p.GetValue(controllerPreset)!, Thresholds = p.GetValue(thresholds), EvalsPerEpoch = p.GetValue(evals), Baselines = p.GetValue(baselines),
            };
            var grid = p.GetValue(baselineHeads)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (grid.Length == 0 || grid.Any(x => !int.TryParse(x, NumberStyles.None, Inv, out var h) || h < 1))
            {
                err.WriteLine($"error: --baseline-heads expects a comma list of positive head counts such as 1,2,4; got '{p.GetValue(baselineHeads)}'.");
                return 2;
            }
            s = s with { BaselineHeads = grid.Select(x => int.Parse(x, Inv)).ToArray() };
            foreach (var (value, option) in new[] { (s.ProbeEvery, "--probe-every"), (s.PruneEvery, "--prune-every"), (s.TrialSteps, "--trial-steps"), (s.ProbeExamples, "--probe-examples") })
                if (value is < 1)
                {
                    err.WriteLine($"error: {option} must be at least 1; got {value}.");
                    return 2;
                }
            if (s.PretrainGrowth && s.PretrainSteps == 0)
            {
                err.WriteLine("error: --pretrain-grow needs --pretrain-steps N (N > 0).");
                return 2;
            }
            if (s.PretrainSteps < 0)
            {
                err.WriteLine(string.Create(Inv, $"error: --pretrain-steps must be 0 (none) or a positive step count; got {s.PretrainSteps}."));
                return 2;
            }
            if (!(s.TokenDropout >= 0 && s.TokenDropout < 1))
            {
                err.WriteLine(string.Create(Inv, $"error: --token-dropout must be in [0, 1); got {s.TokenDropout}."));
                return 2;
            }
            if (!(s.BagOfWords >= 0 && double.IsFinite(s.BagOfWords)))
            {
                err.WriteLine(string.Create(Inv, $"error: --bag-of-words must be a finite number ≥ 0 (0 = none); got {s.BagOfWords}."));
                return 2;
            }
            if (!(s.Adversarial >= 0 && double.IsFinite(s.Adversarial)))
            {
                err.WriteLine(string.Create(Inv, $"error: --adversarial must be a finite number ≥ 0 (0 = off); got {s.Adversarial}."));
                return 2;
            }
            if (s.EmbeddingStd is double std && !(std > 0 && double.IsFinite(std)))
            {
                err.WriteLine(string.Create(Inv, $"error: --embedding-std must be a positive number; got {std}."));
                return 2;
            }
            if (!ControllerChoice.IsValid(s.Controller))
            {
                err.WriteLine($"error: {ControllerChoice.InvalidMessage(s.Controller)}");
                return 2;
            }
            using var console = output is not null ? SampleConsole.Plain(output, consoleLogging) : SampleConsole.Create(p.GetValue(progress), consoleLogging);
            try
            {
                var dev = SampleRuntime.Configure(s.Device, s.Threads, s.Seed);
                var checkpoint = p.GetValue(eval);
                return checkpoint is not null ? Evaluate(checkpoint, s, dev, console.Out) : Train(s, dev, console, args);
            }
            catch (Exception e) when (e is DatasetFormatException or FileNotFoundException or DirectoryNotFoundException or CheckpointException or ArgumentException)
            {
                err.WriteLine($"error: {e.Message}");
                return 2;
            }
        });
        return SampleCommandLine.Invoke(root, args, output, err);
    }

    private static int Train(Sst2Settings s, Device device, SampleConsole console, string[] args)
    {
        var log = console.Out;
        var wall = Stopwatch.StartNew();
        Directory.CreateDirectory(s.Out);
        var data = Sst2Data.Load(s);
        log.WriteLine(string.Create(Inv, $"SST-2: train {data.Train.Count:N0} rows{(data.Train.Count < data.TrainRowsInFile ? $" (subset of {data.TrainRowsInFile:N0})" : "")} from {data.TrainPath}; dev {data.Dev.Count:N0} rows from {data.DevPath}"));
        log.WriteLine(string.Create(Inv, $"vocabulary {data.Vocabulary.Count:N0} tokens (words with min freq {s.MinFreq}{(data.Vocabulary.HasPieces ? $", word pieces shared by ≥ {s.PieceMinTypes} words" : "")}); dev unknown-word rate {data.DevUnknownRate:P1}; device {device}, torch threads {get_num_threads()}"));

        IReadOnlyList<int>? fixedHeads = s.FixedHeads ? Enumerable.Repeat(s.Heads ?? 1, s.Layers).ToList() : null;
        string name = fixedHeads is null ? "incrt" : $"fixed-h{fixedHeads[0]}";
        if (fixedHeads is null) log.WriteLine($"controller preset {ControllerChoice.Normalize(s.Controller)} ({ControllerChoice.OptionName})");
        EvaluationResult? reloaded = null;
        object? controllerSummary = null;
        var outcome = Sst2Pipeline.Train(name, s, data, device, fixedHeads, console.Progress, console.Logging, (model, trainer, controller, evals) =>
        {
            var final = evals.Count > 0 ? evals[^1] : trainer.Evaluate(Sst2Pipeline.EvalBatcher(data.DevIds, data.Dev, device));
            reloaded = Sst2Pipeline.SaveAndVerify(s.Out, model, data, s, final, device);
            if (controller is not null)
            {
                controller.Trace.WriteCsv(Path.Combine(s.Out, "controller_trace.csv"));
                var kinds = controller.Trace.Rows.GroupBy(r => r.Decision).ToDictionary(g => g.Key, g => g.Count());
                controllerSummary = new
                {
                    preset = ControllerChoice.Describe(s.Controller, controller.Options),
                    calls = controller.Calls,
                    probeForwards = controller.ProbeForwards,
                    probeSeconds = controller.ProbeSeconds,
                    stepSeconds = controller.StepSeconds,
                    grew = controller.Trace.Rows.Count(r => r.Decision == "grew"),
                    pruned = controller.Trace.Rows.Count(r => r.Decision == "pruned"),
                    skipped = controller.Trace.Rows.Count(r => r.Decision == "skipped"),
                    converged = controller.IsConverged,
                    callsSinceLastChange = controller.CallsSinceLastChange,
                    finalLambdaMaxOverThetaW = Enumerable.Range(0, controller.Layers.Count).Select(l =>
                        controller.LastReading(l) is { } r && controller.Thresholds(l) is { } t ? r.LambdaMax / t.ThetaW : double.NaN).ToArray(),
                    decisions = kinds,
                };
            }
            TrainingPlot.Save(Path.Combine(s.Out, "training.png"), controller?.Trace, evals, model.GrowableLayers.Select(l => l.HeadCount).ToList(), trainer.Step, name);
        }, log);

        bool reproduced = reloaded is not null && reloaded.Accuracy == outcome.DevAccuracy
            && Enumerable.Range(0, 4).All(i => reloaded.Confusion[i / 2, i % 2] == outcome.FinalEvaluation.Confusion[i / 2, i % 2]);
        log.WriteLine();
        log.WriteLine($"== {name} on SST-2 dev ==");
        log.Write(Sst2Pipeline.Describe(outcome.FinalEvaluation));
        log.WriteLine(string.Create(Inv, $"best dev accuracy during training {outcome.BestDevAccuracy:P2} (reported: the final model)"));
        log.WriteLine($"final heads per layer [{string.Join(", ", outcome.Heads)}]; predicted K* (layer 0, before training): " +
            (outcome.Prediction is { } p
                ? string.Create(CultureInfo.InvariantCulture, $"{p.PredictedHeads} ({100.0 * (p.PredictedHeads - outcome.Heads[0]) / outcome.Heads[0]:+0;-0}% vs observed)")
                : "n/a (fixed architecture)"));
        log.WriteLine(string.Create(Inv, $"parameters {outcome.Parameters:N0} = {outcome.Parameters / 1e6:F2}M, {Sst2Pipeline.BertBaseParameters / outcome.Parameters:F1}× fewer than BERT-base (110M; 93.5% dev)"));
        double cpu = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
        log.WriteLine(string.Create(Inv, $"training {SampleTraining.FormatSeconds(outcome.TrainSeconds)} for {outcome.Steps:N0} steps ({outcome.Steps / outcome.TrainSeconds:F1} step/s); wall {SampleTraining.FormatSeconds(wall.Elapsed.TotalSeconds)}; process CPU time {SampleTraining.FormatSeconds(cpu)} (wall ≫ CPU means the machine was shared)"));
        log.WriteLine(string.Create(Inv, $"checkpoint {Path.Combine(s.Out, Sst2Pipeline.CheckpointFile)} reloaded: dev accuracy {reloaded?.Accuracy:P2} vs {outcome.DevAccuracy:P2} in training → {(reproduced ? "reproduced" : "MISMATCH")}"));

        List<object>? table = null;
        if (s.Baselines) table = RunBaselines(s, data, device, outcome, log, console.Progress);

        var results = new
        {
            task = "sst2",
            command = "dotnet run -c Release --project samples/Incrt.Sst2 -- " + string.Join(' ', args),
            model = name,
            controllerPreset = s.FixedHeads ? null : ControllerChoice.Normalize(s.Controller),
            devAccuracy = outcome.DevAccuracy,
            bestDevAccuracy = outcome.BestDevAccuracy,
            devLoss = outcome.FinalEvaluation.Loss,
            devExamples = outcome.FinalEvaluation.Count,
            headsPerLayer = outcome.Heads,
            predictedHeads = outcome.Prediction?.PredictedHeads,
            predictedHeadsNote = "Incrt.Theory.HeadCountPredictor (Theorem 2) for layer 0, constant frozen on the synthetic family (docs/theory.md)",
            predictionErrorPercent = outcome.Prediction is { } pr ? 100.0 * (pr.PredictedHeads - outcome.Heads[0]) / outcome.Heads[0] : (double?)null,
            prediction = outcome.Prediction is { } pp ? new { pp.Gamma0, pp.ThetaW, pp.LogRatio, pp.KappaSquared, pp.Constant, measure = pp.Measure.ToString(),
                pp.ReplayHeads, pp.ReplayDecisions, pp.ReplayStoppedBy, pp.ReplayCalibrationHeads, pp.StaticReplayHeads,
                replayAfterCalibration = outcome.PredictionAfterCalibration?.ReplayHeads } : null,
            parameters = outcome.Parameters,
            bertBaseParameters = Sst2Pipeline.BertBaseParameters,
            parameterRatioToBertBase = outcome.Parameters / Sst2Pipeline.BertBaseParameters,
            timesFewerThanBertBase = Sst2Pipeline.BertBaseParameters / outcome.Parameters,
            trainSeconds = outcome.TrainSeconds,
            trainCpuSeconds = outcome.TrainCpuSeconds,
            wallSeconds = wall.Elapsed.TotalSeconds,
            processCpuSeconds = cpu,
            steps = outcome.Steps,
            epochs = s.Epochs,
            controller = controllerSummary,
            pretraining = outcome.Pretraining is { } pt ? new { steps = pt.Steps, growth = s.PretrainGrowth, headsPerLayer = pt.Heads, finalLoss = pt.FinalLoss, finalAccuracy = pt.FinalAccuracy, seconds = pt.Seconds } : null,
            perClass = Sst2Pipeline.PerClass(outcome.FinalEvaluation),
            confusion = Sst2Pipeline.Confusion(outcome.FinalEvaluation),
            evaluations = outcome.Evaluations.Select(e => new { step = e.Step, accuracy = e.Accuracy, loss = e.Loss }).ToArray(),
            checkpoint = new
            {
                path = Path.Combine(s.Out, Sst2Pipeline.CheckpointFile),
                vocabulary = Path.Combine(s.Out, Sst2Pipeline.VocabularyFile),
                reloadedDevAccuracy = reloaded?.Accuracy,
                reproduced,
            },
            baselines = table,
            data = new { train = data.TrainPath, dev = data.DevPath, trainRows = data.Train.Count, trainRowsInFile = data.TrainRowsInFile, devRows = data.Dev.Count, vocabulary = data.Vocabulary.Count, devUnknownRate = data.DevUnknownRate },
            settings = s,
            environment = new { device = device.ToString(), threads = get_num_threads(), processors = Environment.ProcessorCount, torch = __version__, cpu = CpuDescription.Current() },
        };
        ResultsFile.Write(Path.Combine(s.Out, "results.json"), results);
        log.WriteLine($"wrote {Path.Combine(s.Out, "results.json")}, training.png{(controllerSummary is null ? "" : ", controller_trace.csv")}, {Sst2Pipeline.CheckpointFile}, {Sst2Pipeline.VocabularyFile}");
        return reproduced ? 0 : 1;
    }

    private static List<object> RunBaselines(Sst2Settings s, Sst2Data data, Device device, RunOutcome incrt, TextWriter log, IProgressSink progress)
    {
        var rows = new List<RunOutcome> { incrt };
        log.WriteLine("--- baseline bag-of-words logistic regression, same vocabulary, batches, epochs and schedule ---");
        rows.Add(BagOfWordsBaseline.Train(s, data, device, log));
        var sizes = s.BaselineHeads.Select(h => (IReadOnlyList<int>)Enumerable.Repeat(h, s.Layers).ToList()).ToList();
        // H = INCRT's final count, unless the main run was itself a fixed model (then it is already in the table).
        if (!s.FixedHeads && !sizes.Any(x => x.SequenceEqual(incrt.Heads))) sizes.Add(incrt.Heads);
        foreach (var h in sizes)
        {
            string name = $"fixed H={string.Join(",", h)}" + (h.SequenceEqual(incrt.Heads) ? " (=INCRT)" : "");
            log.WriteLine($"--- baseline {name}, same data, epochs and schedule, no controller ---");
            rows.Add(Sst2Pipeline.Train(name, s with { ProgressEvery = int.MaxValue / 2 }, data, device, h, progress, null));
        }
        log.WriteLine();
        log.WriteLine("== dev accuracy vs size (same harness and budget) ==");
        log.WriteLine("model                    heads     params   dev acc   best acc   train time   CPU time");
        foreach (var r in rows)
            log.WriteLine(string.Create(Inv, $"{r.Name,-24} {"[" + string.Join(",", r.Heads) + "]",-8} {r.Parameters,9:N0}   {r.DevAccuracy,7:P2}   {r.BestDevAccuracy,7:P2}   {SampleTraining.FormatSeconds(r.TrainSeconds),10}   {SampleTraining.FormatSeconds(r.TrainCpuSeconds),8}"));
        var table = rows.Select(r => (object)new { name = r.Name, heads = r.Heads, parameters = r.Parameters, devAccuracy = r.DevAccuracy, bestDevAccuracy = r.BestDevAccuracy, trainSeconds = r.TrainSeconds, trainCpuSeconds = r.TrainCpuSeconds, steps = r.Steps }).ToList();
        ResultsFile.Write(Path.Combine(s.Out, "baselines.json"), table);
        return table;
    }

    private static int Evaluate(string checkpoint, Sst2Settings s, Device device, TextWriter log)
    {
        // The scored file first: a bad or header-only file is an error before anything is loaded.
        string file = s.Data is { } given && File.Exists(given) ? given : Sst2Data.ResolveFiles(s.Data).Dev;
        var rows = LabeledTextTsv.Read(file);
        var members = checkpoint.Split(',', StringSplitOptions.TrimEntries);
        if (members.Any(c => c.Length == 0))
            throw new ArgumentException($"--eval: an empty checkpoint path in '{checkpoint}'; expected a path or a comma-separated list of paths.");
        if (members.Length > 1)
        {
            var ensemble = EnsembleEvaluation.Run(members, rows, device, log);
            log.WriteLine(string.Create(Inv, $"scored {rows.Count:N0} sentences from {Path.GetFullPath(file)}"));
            log.Write(Sst2Pipeline.Describe(ensemble));
            return 0;
        }
        var (model, ids, loaded, vocab) = EnsembleEvaluation.Load(checkpoint, rows, device);
        using var _ = model;
        var md = loaded.Metadata;
        var result = Trainer.Evaluate(model, Sst2Pipeline.EvalBatcher(ids, rows, device));
        log.WriteLine($"checkpoint {Path.GetFullPath(checkpoint)}: heads per layer [{string.Join(", ", loaded.HeadCounts)}], {model.ParameterCount():N0} parameters");
        var (tokens, missing, unknown) = vocab.Coverage(rows.Select(r => r.Text));
        string split = vocab.HasPieces ? string.Create(Inv, $" ({unknown:N0} of them [UNK], the rest split into word pieces)") : "";
        log.WriteLine(string.Create(Inv, $"scored {rows.Count:N0} sentences from {Path.GetFullPath(file)}; {missing:N0} of {tokens:N0} words ({(double)missing / Math.Max(1, tokens):P1}) are not in the training vocabulary{split}"));
        log.Write(Sst2Pipeline.Describe(result));
        if (md.TryGetValue("devSha256", out var sha) && sha == Sst2Pipeline.Sha256(file) && md.TryGetValue("devAccuracy", out var acc))
        {
            double trained = double.Parse(acc, Inv);
            bool same = trained == result.Accuracy;
            log.WriteLine(string.Create(Inv, $"same file as the training run's dev set: accuracy now {result.Accuracy:P2}, at training {trained:P2} → {(same ? "reproduced" : "MISMATCH")}"));
            return same ? 0 : 1;
        }
        return 0;
    }
}
