// Synthetic benchmark for INCRT's two theorems (issue 5, docs/theory.md):
// K planted directed relations → does the controller, grown from one head, stop where Theorem 1 says
// (stopped, sufficient, minimal) and where Theorem 2's predictor says (K*)?
//
//   dotnet run -c Release --project samples/Incrt.Synthetic -- --threads 1            # full sweep
//   dotnet run -c Release --project samples/Incrt.Synthetic -- --quick --threads 1    # a couple of small configs
//   dotnet run -c Release --project samples/Incrt.Synthetic -- --fit --threads 1      # how the predictor's constant was fitted
//   dotnet run -c Release --project samples/Incrt.Synthetic -- --help                 # every option (SweepCommandLine)
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Incrt.Control;
using Incrt.Energy;
using Incrt.Models;
using Incrt.Samples.Common;
using Incrt.Synthetic;
using Incrt.Tasks.Data;
using Incrt.Theory;
using Incrt.Training;
using static TorchSharp.torch;

return Incrt.Synthetic.SyntheticApp.Run(args);

namespace Incrt.Synthetic
{
    /// <summary>The sweep as a callable entry point (the console app and the --quick test both use it).</summary>
    public static class SyntheticApp
    {
        /// <summary>Parses <paramref name="args"/> (System.CommandLine; <c>--help</c> lists the options) and runs the
        /// sweep. Returns the process exit code: 0, or 2 on a bad option (message naming it on <paramref name="error"/>).</summary>
        /// <param name="args">Command-line arguments.</param>
        /// <param name="output">Progress lines, the table and help (default <see cref="Console.Out"/>).</param>
        /// <param name="error">Error messages (default <see cref="Console.Error"/>).</param>
        public static int Run(string[] args, TextWriter? output = null, TextWriter? error = null)
        {
            var log = output ?? Console.Out;
            var err = error ?? Console.Error;
            return SampleCommandLine.Invoke(SweepCommandLine.Create(settings => Sweep(settings, log, err)), args, log, error);
        }

        private static int Sweep(SweepSettings settings, TextWriter log, TextWriter err)
        {
            CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
            CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
            Device device;
            try { device = SampleRuntime.Configure(settings.Device, settings.Threads, 0); }
            catch (ArgumentException e) { err.WriteLine($"error: {e.Message}"); return 2; }
            log.WriteLine($"INCRT synthetic sweep: K {string.Join(',', settings.Ks)} × seeds {string.Join(',', settings.Seeds)} × noise {string.Join(',', settings.Noises)}, " +
                $"d_model {settings.DModel}, head_dim {settings.HeadDim}, {settings.Epochs} epochs × {settings.Examples / settings.BatchSize} steps, threads {get_num_threads()}, device {device}, out {settings.Out}");
            var clock = Stopwatch.StartNew();
            var results = new List<RunResult>();
            int total = settings.Ks.Count * settings.Seeds.Count * settings.Noises.Count, index = 0;
            foreach (var noise in settings.Noises)
                foreach (var k in settings.Ks)
                    foreach (var seed in settings.Seeds)
                    {
                        var r = SyntheticRun.Run(settings, k, seed, noise, device);
                        results.Add(r);
                        index++;
                        log.WriteLine($"[{index}/{total} {clock.Elapsed:mm\\:ss}] K={k,2} seed={seed} noise={noise:F2}: K* {r.PredictedHeads,3} observed {r.ObservedHeads,3} " +
                            $"err {r.ErrorPercent,6:F1}% | homeostasis@call {r.HomeostasisCall,4} of {r.Calls} λ/θ {r.EnergyRatio:F3} stopped {Y(r.Stopped)} " +
                            $"sufficient {Y(r.Sufficient)} minimal {Y(r.Minimal)} necessary {r.HeadsNecessary}/{r.ObservedHeads} | acc {r.Accuracy:F3}" +
                            (r.FixedAccuracy is { } fa ? $" fixed-K acc {fa:F3}" : "") + $" | κ²: task {r.TaskRank:F1} init {r.InitialRank:F1} cov {r.CovarianceRank:F1}" +
                            $" | replay: schedule {r.ReplayHeads} calibration batches {r.ReplayCalibrationHeads} static {r.StaticReplayHeads}" +
                            $" | after calibration: schedule {r.CalibrationReplayHeads} calibration batches {r.CalibrationReplayCalibrationHeads} static {r.CalibrationStaticReplayHeads} ({r.Seconds:F0}s)");
                        SyntheticRun.WriteOutputs(settings, results);
                    }

            log.WriteLine();
            log.WriteLine(SyntheticRun.Table(results));
            if (settings.Fit) log.WriteLine(SyntheticRun.FitReport(results));
            log.WriteLine($"wrote {Path.Combine(settings.Out, "results.json")}, results.csv, heads.png in {clock.Elapsed:mm\\:ss}");
            return 0;
        }

        private static string Y(bool b) => b ? "y" : "n";
    }

    /// <summary>One configuration's measurements.</summary>
    internal sealed record RunResult(
        int K, int Seed, double Noise, int DModel,
        int PredictedHeads, int ObservedHeads, double ErrorPercent, int Grew, int Pruned,
        long HomeostasisCall, long Calls, double EnergyRatio, bool Stopped, bool Sufficient, bool Minimal, int HeadsNecessary, bool Converged,
        double Accuracy, double? FixedAccuracy,
        double Gamma0, double ThetaW, double LogRatio, double TaskRank, double InitialRank, double CovarianceRank,
        int TaskSignificant, int InitialSignificant, double Seconds,
        IReadOnlyList<long> HeadSteps, IReadOnlyList<int> HeadCounts, int ReplayHeads, int StaticReplayHeads,
        int ReplayCalibrationHeads, int? CalibrationReplayHeads, int? CalibrationReplayCalibrationHeads, int? CalibrationStaticReplayHeads);

    internal static class SyntheticRun
    {
        public static RunResult Run(SweepSettings s, int k, int seed, double noise, Device device)
        {
            var clock = Stopwatch.StartNew();
            var taskOptions = new SyntheticTaskOptions
            {
                Relations = k, DModel = s.DModel, VocabularySize = s.Vocabulary, SequenceLength = 24, MinSequenceLength = 12,
                LabelNoise = noise, Seed = seed,
            };
            var task = new SyntheticDirectedTask(taskOptions);
            var train = task.Generate(s.Examples, 1);
            var dev = task.Generate(1000, 2);
            var trainBatches = new LengthBucketBatcher(train.Sequences, train.Labels, s.BatchSize, seed, device);
            var devBatches = new LengthBucketBatcher(dev.Sequences, dev.CleanLabels, 200, seed, device);
            var trainerOptions = new TrainerOptions { Epochs = s.Epochs, WarmupSteps = 100, ProgressEvery = 1000 };
            var controllerOptions = new ControllerOptions
            {
                MaxDwellCalls = 2, Thresholds = s.ThresholdMode, Estimator = new EstimatorOptions { Mode = s.EstimatorMode }, Prune = s.Prune, LeaveOneOutRatio = s.PruneRatio,
            };

            manual_seed(seed);
            using var model = NewModel(s, 1, seed, device);
            // The prediction before training and the growth replay again when calibration ends (80 steps of one-head
            // training, no growth yet): what the rule gives once the operator has left its random initialisation.
            HomeostasisReport? report = null;
            var run = SampleTraining.Run(model, new TrainingRunSettings
            {
                Name = $"K={k} seed={seed} noise={noise:F2}", Trainer = trainerOptions, Controller = controllerOptions, Train = trainBatches, Validation = devBatches,
            }, trained => report = HomeostasisCheck.Check(trained.Controller!));
            var prediction = run.Prediction ?? throw new InvalidOperationException($"head-count prediction failed: {run.PredictionError}");
            var atCalibration = run.PredictionAfterCalibration;
            var events = run.Events;
            var evals = run.Validation;
            Directory.CreateDirectory(s.Out);
            run.Trace!.WriteCsv(Path.Combine(s.Out, $"trace-k{k}-s{seed}-n{noise:F2}.csv"));
            var changes = events.Where(e => e.Kind is HeadEventKind.Grew or HeadEventKind.Pruned).ToList();
            long homeostasisCall = changes.Count == 0 ? 0 : changes[^1].Call + 1;

            double? fixedAccuracy = null;
            if (s.Fixed)
            {
                manual_seed(seed);
                using var fixedModel = NewModel(s, k, seed, device);
                var fixedTrainer = new Trainer(fixedModel, trainerOptions);
                fixedAccuracy = fixedTrainer.Fit(trainBatches, devBatches)[^1].Accuracy;
            }

            var steps = new List<long> { 0 };
            var counts = new List<int> { 1 };
            foreach (var e in changes) { steps.Add(e.Step); counts.Add(e.HeadsAfter); }
            steps.Add(run.Steps);
            counts.Add(report!.Heads);
            int observed = report.Heads;
            return new RunResult(k, seed, noise, s.DModel, prediction.PredictedHeads, observed,
                100.0 * (prediction.PredictedHeads - observed) / observed,
                events.Count(e => e.Kind == HeadEventKind.Grew), events.Count(e => e.Kind == HeadEventKind.Pruned),
                homeostasisCall, report.Calls, report.EnergyRatio, report.Stopped, report.Sufficient, report.Minimal, report.HeadsNecessary,
                report.Converged, evals[^1].Accuracy, fixedAccuracy,
                prediction.Gamma0, prediction.ThetaW, prediction.LogRatio, prediction.TaskOperatorRank, prediction.InitialOperatorRank,
                prediction.CovarianceRank, prediction.TaskSignificantCount, prediction.InitialSignificantCount, clock.Elapsed.TotalSeconds,
                steps, counts, prediction.ReplayHeads, prediction.StaticReplayHeads, prediction.ReplayCalibrationHeads,
                atCalibration?.ReplayHeads, atCalibration?.ReplayCalibrationHeads, atCalibration?.StaticReplayHeads);
        }

        private static IncrtClassifier NewModel(SweepSettings s, int heads, int seed, Device device) =>
            new(new IncrtModelOptions(s.Vocabulary, 32, DModel: s.DModel, HeadDim: s.HeadDim, InitialHeads: heads,
                MaxHeads: Math.Max(s.MaxHeads, heads), Dropout: 0.0, Seed: (ulong)seed), device);

        public static string Table(IReadOnlyList<RunResult> results)
        {
            var sb = new StringBuilder();
            sb.AppendLine("| K | seed | noise | K* | heads | err % | grew/pruned | homeostasis call / calls | λmax/θ_w | stopped | sufficient | minimal | necessary | acc | fixed-K acc |");
            sb.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
            foreach (var r in results)
                sb.AppendLine($"| {r.K} | {r.Seed} | {r.Noise:F2} | {r.PredictedHeads} | {r.ObservedHeads} | {r.ErrorPercent:F1} | {r.Grew}/{r.Pruned} | " +
                    $"{r.HomeostasisCall} / {r.Calls} | {r.EnergyRatio:F3} | {YN(r.Stopped)} | {YN(r.Sufficient)} | {YN(r.Minimal)} | " +
                    $"{r.HeadsNecessary}/{r.ObservedHeads} | {r.Accuracy:F3} | {(r.FixedAccuracy is { } f ? f.ToString("F3", CultureInfo.InvariantCulture) : "–")} |");
            foreach (var measure in RankMeasures)
            {
                double c = HeadCountPredictor.FittedConstant(measure);
                var errs = results.Select(r => 100.0 * Math.Abs(1 + HeadCountPredictor.GreedyGrowths(r.Gamma0, r.ThetaW, Kappa2(r, measure), c) - r.ObservedHeads) / r.ObservedHeads).ToList();
                sb.AppendLine($"measure {measure} (frozen c {c:F2}): mean |err| {errs.Average():F1}%, max {errs.Max():F1}%, within ±12% {errs.Count(e => e <= 12)}/{errs.Count}");
            }
            foreach (var (name, pick) in new (string, Func<RunResult, int>)[] 
            {
                ("GrowthReplay (schedule, step 0, no constant)", r => r.ReplayHeads), ("replay over calibration batches, step 0", r => r.ReplayCalibrationHeads),
                ("static replay on A(0)", r => r.StaticReplayHeads), ("schedule replay after calibration (step 80)", r => r.CalibrationReplayHeads ?? 0),
                ("calibration-batch replay after calibration", r => r.CalibrationReplayCalibrationHeads ?? 0),
                ("static replay after calibration", r => r.CalibrationStaticReplayHeads ?? 0),
            })
            {
                var errs = results.Select(r => 100.0 * Math.Abs(pick(r) - r.ObservedHeads) / r.ObservedHeads).ToList();
                sb.AppendLine($"{name}: mean |err| {errs.Average():F1}%, max {errs.Max():F1}%, within ±12% {errs.Count(e => e <= 12)}/{errs.Count}");
            }
            int within = results.Count(r => Math.Abs(r.ErrorPercent) <= 12);
            sb.AppendLine();
            sb.AppendLine($"within ±12%: {within}/{results.Count}; mean |err| {results.Average(r => Math.Abs(r.ErrorPercent)):F1}%; " +
                $"all three Theorem 1 conditions: {results.Count(r => r.Stopped && r.Sufficient && r.Minimal)}/{results.Count}");
            foreach (var g in results.GroupBy(r => (r.K, r.Noise)))
                sb.AppendLine($"K={g.Key.K,2} noise {g.Key.Noise:F2}: heads mean {g.Average(r => r.ObservedHeads):F1} (K* {g.Average(r => r.PredictedHeads):F1}), " +
                    $"acc {g.Average(r => r.Accuracy):F3}, fixed-K acc {(g.All(r => r.FixedAccuracy is not null) ? g.Average(r => r.FixedAccuracy!.Value).ToString("F3", CultureInfo.InvariantCulture) : "–")}, " +
                    $"κ² task {g.Average(r => r.TaskRank):F1} init {g.Average(r => r.InitialRank):F1} cov {g.Average(r => r.CovarianceRank):F1}, " +
                    $"significant task {g.Average(r => r.TaskSignificant):F1} init {g.Average(r => r.InitialSignificant):F1}");
            return sb.ToString();
        }

        /// <summary>Best c per measure on these runs (grid 0.01..3), with its mean |error| — how DefaultConstant was fitted.</summary>
        public static string FitReport(IReadOnlyList<RunResult> results)
        {
            var sb = new StringBuilder("fit (greedy-pursuit constant c per complexity measure, grid 0.01..3):\n");
            foreach (var measure in RankMeasures)
            {
                double best = double.NaN, bestErr = double.PositiveInfinity;
                for (int i = 1; i <= 300; i++)
                {
                    double c = i / 100.0;
                    double err = results.Average(r =>
                    {
                        double kappa2 = Kappa2(r, measure);
                        int predicted = 1 + HeadCountPredictor.GreedyGrowths(r.Gamma0, r.ThetaW, kappa2, c);
                        return Math.Abs(predicted - r.ObservedHeads) / (double)r.ObservedHeads;
                    });
                    if (err < bestErr - 1e-12) { bestErr = err; best = c; }
                }
                sb.AppendLine($"  {measure}: c = {best:F2}, mean |err| {100 * bestErr:F1}%");
            }
            return sb.ToString();
        }

        public static void WriteOutputs(SweepSettings s, IReadOnlyList<RunResult> results)
        {
            Directory.CreateDirectory(s.Out);
            ResultsFile.Write(Path.Combine(s.Out, "results.json"), new
            {
                Settings = s,
                Predictor = new { Measure = HeadCountPredictor.DefaultMeasure.ToString(), Constant = HeadCountPredictor.DefaultConstant },
                Runs = results,
            });
            var csv = new StringBuilder("k,seed,noise,d_model,predicted,observed,error_pct,grew,pruned,homeostasis_call,calls,lambda_over_theta,stopped,sufficient,minimal,necessary,converged,accuracy,fixed_accuracy,gamma0,theta_w,log_ratio,kappa2_task,kappa2_initial,kappa2_covariance,significant_task,significant_initial,seconds,replay_heads,static_replay_heads,replay_calibration_heads,after_calibration_replay_heads,after_calibration_replay_calibration_heads,after_calibration_static_replay_heads\n");
            foreach (var r in results)
                csv.AppendLine(string.Join(',', new object?[] { r.K, r.Seed, r.Noise, r.DModel, r.PredictedHeads, r.ObservedHeads, r.ErrorPercent, r.Grew, r.Pruned,
                    r.HomeostasisCall, r.Calls, r.EnergyRatio, r.Stopped, r.Sufficient, r.Minimal, r.HeadsNecessary, r.Converged, r.Accuracy, r.FixedAccuracy,
                    r.Gamma0, r.ThetaW, r.LogRatio, r.TaskRank, r.InitialRank, r.CovarianceRank, r.TaskSignificant, r.InitialSignificant, r.Seconds, r.ReplayHeads, r.StaticReplayHeads, r.ReplayCalibrationHeads, r.CalibrationReplayHeads, r.CalibrationReplayCalibrationHeads, r.CalibrationStaticReplayHeads }
                    .Select(v => Convert.ToString(v, CultureInfo.InvariantCulture))));
            File.WriteAllText(Path.Combine(s.Out, "results.csv"), csv.ToString());

            double max = results.Max(r => Math.Max(r.PredictedHeads, r.ObservedHeads)) + 2;
            var diagonal = new[] { 0.0, max };
            var scatter = new List<LinePlot.Series>
            {
                new("observed = predicted", diagonal, diagonal),
                new("+12%", diagonal, diagonal.Select(v => v * 1.12).ToArray()),
                new("−12%", diagonal, diagonal.Select(v => v * 0.88).ToArray()),
            };
            foreach (var g in results.GroupBy(r => r.K))
                scatter.Add(new($"K={g.Key}", g.Select(r => (double)r.PredictedHeads).ToArray(), g.Select(r => (double)r.ObservedHeads).ToArray(), MarkersOnly: true));
            var byK = results.GroupBy(r => r.K).OrderBy(g => g.Key).ToList();
            var vsK = new List<LinePlot.Series>
            {
                new("observed (mean)", byK.Select(g => (double)g.Key).ToArray(), byK.Select(g => g.Average(r => r.ObservedHeads)).ToArray()),
                new("predicted K* (mean)", byK.Select(g => (double)g.Key).ToArray(), byK.Select(g => g.Average(r => r.PredictedHeads)).ToArray()),
                new("planted K", byK.Select(g => (double)g.Key).ToArray(), byK.Select(g => (double)g.Key).ToArray()),
            };
            var curves = results.Select(r => new LinePlot.Series($"K={r.K} s{r.Seed} η{r.Noise:F1}",
                r.HeadSteps.SelectMany((st, i) => i == 0 ? new[] { (double)st } : new[] { (double)st, st }).ToArray(),
                r.HeadCounts.SelectMany((c, i) => i == 0 ? new[] { (double)c } : new[] { (double)r.HeadCounts[i - 1], c }).ToArray())).ToList();
            LinePlot.Save(Path.Combine(s.Out, "heads.png"), new[]
            {
                new LinePlot.Panel("Predicted K* vs observed final heads (±12% band)", "predicted K*", "observed heads", scatter),
                new LinePlot.Panel("Final heads vs planted K", "planted K", "heads", vsK),
                new LinePlot.Panel("Head count vs optimizer step, every run", "step", "heads", results.Count <= 12 ? curves : curves.Select(c => c with { Label = "" }).ToList()),
            }, width: 900, panelHeight: 340);
        }

        /// <summary>The measures with a κ² and a fitted constant (GrowthReplay has neither).</summary>
        private static readonly ComplexityMeasure[] RankMeasures =
            { ComplexityMeasure.TaskOperatorRank, ComplexityMeasure.InitialOperatorRank, ComplexityMeasure.CovarianceRank };

        private static double Kappa2(RunResult r, ComplexityMeasure measure) => measure switch
        {
            ComplexityMeasure.TaskOperatorRank => r.TaskRank,
            ComplexityMeasure.InitialOperatorRank => r.InitialRank,
            _ => r.CovarianceRank,
        };

        private static string YN(bool b) => b ? "yes" : "no";
    }
}
