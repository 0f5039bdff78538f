using Incrt.Attention;
using Incrt.Control;
using Incrt.Energy;
using Incrt.Training;
using static TorchSharp.torch;

namespace Incrt.Benchmarks;

/// <summary>Case 2: what the controller costs next to the training step it follows, for each preset of
/// <c>--controllers</c>.</summary>
internal static class ControllerCase
{
    /// <summary>Estimator × prune statistic pairs of the energy rows: the paper's online mode, the exact oracle and
    /// the block solver, each with the default statistic, and LeaveOneOut read by Lanczos (default) and by the dense oracle (H batched eigvalsh).</summary>
    /// <remarks>Useful = θ_w tiny instead of huge: every head's leave-one-out λmax is above it (the state of a layer whose
    /// heads all earn their place), which the Lanczos reading decides early; otherwise every head is redundant and is
    /// read to full precision (its worst case). MaxHeads = H blocks growth either way.</remarks>
    private static readonly (EstimatorMode Mode, PruneStatistic Prune, LeaveOneOutSolver Solver, bool Useful)[] EnergyConfigs =
    {
        (EstimatorMode.Online, PruneStatistic.Reference, default, false), (EstimatorMode.Exact, PruneStatistic.Reference, default, false),
        (EstimatorMode.Block, PruneStatistic.Reference, default, false),
        (EstimatorMode.Online, PruneStatistic.LeaveOneOut, LeaveOneOutSolver.Lanczos, false),
        (EstimatorMode.Online, PruneStatistic.LeaveOneOut, LeaveOneOutSolver.Lanczos, true),
        (EstimatorMode.Exact, PruneStatistic.LeaveOneOut, LeaveOneOutSolver.Dense, false),
    };

    public static CaseResult Measure(BenchOptions o)
    {
        var result = new CaseResult
        {
            Case = "controller", Title = $"HeadController cost vs one training step, d_model = {string.Join(", ", o.DGrid(new long[] { 256 }))}, B = {o.B}, d_k = d/H",
            Threads = o.Threads, Target = "controller time per training step ≤ 3% of the step (amortised over the calls that act)",
        };
        long[] ts = o.Quick ? new long[] { 32 } : new long[] { 32, 128 };
        int[] hs = o.Grid(o.Quick ? new[] { 1, 64 } : new[] { 1, 16, 64 });
        bool met = true;
        foreach (var d in o.DGrid(new long[] { 256 }))
        foreach (var t in ts)
            foreach (var h in hs)
                foreach (var name in o.ControllerNames)
                    met &= BenchControllers.IsLoss(name) ? LossAware(o, result, d, t, h, name) : Energy(o, result, d, t, h);
        result.TargetMet = met;
        result.Note = "energy rows: one acting call (Interval = 5) with θ_w huge (\"heads useful\": tiny), φ_g tiny, an endless leave-one-out window and MaxHeads = H, so every call " +
            "measures fully and never changes the layer; amortised = call / (5 × step); LeaveOneOut (Lanczos) decides a head whose λmax without it is above the boundary early, " +
            $"and reads a redundant one to {LeaveOneOutLanczos.Tolerance:G1}·‖F‖_F. loss rows: ControllerPresets.LossAware (a check masks min(H, PruneProbeHeads = 4) heads " +
            "and checks that find nothing to act on space out up to MaxPruneEverySteps = 3200 steps; loss-every: a check every PruneEverySteps; loss-unbounded: that and all H heads masked) with its " +
            "growth verdicts vetoed and UsefulAbsolute = UsefulFraction = 0, probe = mean squared distance of the layer's output to its output at the run's start " +
            $"on {new TrainerOptions().ProbeExamples} examples in batches of B, so masking any head raises it: every check finds every head useful and changes nothing (the state a run can stay in: " +
            "a check that finds a head to prune removes it; until 2026-11-30 the rows timed a prunable head whose removal was vetoed at every check) " +
            $"(Trainer's probe size, eval mode, no_grad); a timed run = the controller calls of steps 0 … run steps − 1 on a fresh controller (checks/run masked-loss checks, each of min(H, 4) + 1 probe losses, H + 1 for loss-unbounded), " +
            "call ms = run / acting calls, amortised = median over timed runs of run / (run steps × step), each run paired with a step sample taken right after it; probe ms = median of 3 probe losses; trial amortised = the 2 probes every " + $"{Loss.ProbeEverySteps} steps " +
            $"of a growth trial ({TrialProbes(Loss)} per {Loss.PruneEverySteps} steps, no prune checks meanwhile) / ({Loss.PruneEverySteps} × step). At H = 1 nothing is ever pruned, so no check runs.";
        return result;
    }

    private static bool Energy(BenchOptions o, CaseResult result, long d, long t, int h)
    {
        bool met = true;
        foreach (var (mode, prune, solver, useful) in EnergyConfigs)
        {
            using var step = new IncrtStep(d, h, d / h, o.B, t, maxHeads: h);
            step.Run();
            // θ_w huge → never grows; φ_g tiny and an endless leave-one-out window → never prunes: every call does the full measurement.
            var options = ControllerPresets.Energy with
            {
                Interval = 1, ThetaW = useful ? 1e-30 : 1e30, PhiG = 1e-300, Prune = prune, LeaveOneOutWindow = int.MaxValue, LeaveOneOutSolver = solver,
                Estimator = new EstimatorOptions { Mode = mode },
            };
            using var controller = new HeadController(new[] { step.Layer }, step.Optimizer, options);
            long k = 0;
            void Call()
            {
                var events = controller.Step(k++);
                if (events.Count != 0) throw new InvalidOperationException("The benchmark controller changed the layer.");
            }
            var p = Harness.Interleaved(Call, step.Run, o.Timing);
            double amortised = p.MedianRatio / 5;
            met &= amortised <= 0.03;
            result.Add(("d_model", d), ("T", t), ("H", h), ("controller", BenchControllers.Energy), ("mode", mode.ToString()), ("prune stat", StatName(prune, solver, useful)),
                ("call ms", p.MedianA), ("step ms", p.MedianB), ("call/step", p.MedianRatio), ("amortised", amortised), ("≤ 3%", amortised <= 0.03),
                ("CPU-time amortised", p.MedianCpuRatio / 5));
            Console.Error.WriteLine($"  controller d={d} T={t} H={h} {mode} {StatName(prune, solver, useful)}: {p.MedianA:F3} ms vs step {p.MedianB:F3} ms, amortised {amortised:P2} (CPU {p.MedianCpuRatio / 5:P2})");
        }
        return met;
    }

    private static string StatName(PruneStatistic prune, LeaveOneOutSolver solver, bool useful) =>
        prune != PruneStatistic.LeaveOneOut ? prune.ToString() : $"LeaveOneOut ({solver}{(useful ? ", heads useful" : ", heads redundant")})";

    private static LossAwareOptions Loss => ControllerPresets.LossAware.LossAware;

    /// <summary>Probe losses of a growth trial per prune interval: masked and unmasked, every ProbeEverySteps.</summary>
    private static int TrialProbes(LossAwareOptions l) => 2 * l.PruneEverySteps / l.ProbeEverySteps;

    /// <summary>Steps of the training run a loss row times: the controller calls of a whole run, from step 0, since the
    /// checks space out while they find nothing to act on (<see cref="LossAwareOptions.MaxPruneEverySteps"/>).</summary>
    private static int RunSteps(BenchOptions o) => o.Tiny ? 1_000 : o.Quick ? 3_200 : 10_000;

    private static bool LossAware(BenchOptions o, CaseResult result, long d, long t, int h, string name)
    {
        var preset = BenchControllers.EveryHeadUseful(BenchControllers.Preset(name));
        int steps = RunSteps(o);
        using var step = new IncrtStep(d, h, d / h, o.B, t, maxHeads: h);
        step.Run();
        using var probe = new LayerProbe(step.Layer, new TrainerOptions().ProbeExamples, o.B, t);
        // One repetition = the controller calls of a whole run on a fresh controller (its checks then fall where a run's
        // would), paired with a sample of training steps taken right after it.
        (double Ms, double Cpu, long Probes, int Checks) RunOnce()
        {
            using var controller = new HeadController(new[] { step.Layer }, step.Optimizer, preset, rules: BenchControllers.MeasureOnly(preset))
            {
                LossProbe = probe.Loss,
            };
            probe.Anchor();
            long before = probe.Calls;
            double cpu0 = Harness.CpuMs();
            double ms = Harness.TimeOnce(() =>
            {
                for (long k = 0; k < steps; k++)
                {
                    var events = controller.Step(k, 1.0);            // a flat loss: a plateau at every window, MaxHeads = H stops growth
                    if (events.Count != 0) throw new InvalidOperationException("The benchmark controller changed the layer.");
                }
            });
            double cpu = Harness.CpuMs() - cpu0;
            if (controller.Trace.Rows.Any(r => r.Decision.StartsWith("vetoed:prune", StringComparison.Ordinal)))
                throw new InvalidOperationException("A check found a head to prune: the timed run is not the every-head-useful state.");
            int checks = controller.Trace.Rows.Count(r => r.Decision == "checked");
            return (ms, cpu, probe.Calls - before, checks);
        }
        int reps = o.Tiny ? 1 : o.Quick ? 2 : 3;
        var ratios = new List<double>(); var cpuRatios = new List<double>(); var runs = new List<double>(); var stepsMs = new List<double>();
        long probes = 0; int checks = 0;
        for (int rep = 0; rep < reps; rep++)
        {
            var r = RunOnce();
            double stepMs = Harness.Single(step.Run, new Settings(Warmup: 0, Reps: 1, o.Timing.SampleMs))[0];
            runs.Add(r.Ms); stepsMs.Add(stepMs);
            ratios.Add(r.Ms / stepMs); cpuRatios.Add(r.Cpu / Harness.LastCpuMs);
            (probes, checks) = (r.Probes, r.Checks);
        }
        double runMs = Harness.Median(runs), stepMedian = Harness.Median(stepsMs);
        double amortised = Harness.Median(ratios) / steps;
        double probeMs = Harness.Median(Enumerable.Range(0, 3).Select(_ => Harness.TimeOnce(() => { using var g = no_grad(); probe.Loss(); })).ToList());
        double trial = TrialProbes(preset.LossAware) * probeMs / (preset.LossAware.PruneEverySteps * stepMedian);
        int acting = steps / preset.Interval;
        result.Add(("d_model", d), ("T", t), ("H", h), ("controller", name), ("mode", "measure-only"), ("prune stat", preset.Prune.ToString()),
            ("call ms", runMs / acting), ("step ms", stepMedian), ("call/step", runMs / acting / stepMedian),
            ("amortised", amortised), ("≤ 3%", amortised <= 0.03), ("CPU-time amortised", Harness.Median(cpuRatios) / steps),
            ("probe ms", probeMs), ("run steps", steps), ("checks/run", checks), ("probes/run", probes), ("trial amortised", trial), ("runs timed", reps));
        Console.Error.WriteLine($"  controller d={d} T={t} H={h} {name}: {runMs:F1} ms per {steps}-step run ({checks} checks, {probes} probes) vs step {stepMedian:F3} ms, amortised {amortised:P2}, probe {probeMs:F2} ms, trial {trial:P2}");
        return amortised <= 0.03;
    }

    /// <summary>A loss probe for a lone layer, sized as the one <see cref="Trainer"/> gives the controller
    /// (<see cref="TrainerOptions.ProbeExamples"/> examples in batches of B, eval mode, one host read per batch): the mean
    /// squared distance of the layer's output on fixed random inputs to its output at <see cref="Anchor"/>.</summary>
    private sealed class LayerProbe : IDisposable
    {
        private readonly GrowableMultiHeadAttention _layer;
        private readonly Tensor[] _inputs;
        private Tensor[] _targets = Array.Empty<Tensor>();

        public LayerProbe(GrowableMultiHeadAttention layer, int examples, long batch, long seq)
        {
            _layer = layer;
            using var g = new Generator(29);
            _inputs = Enumerable.Range(0, (int)Math.Ceiling(examples / (double)batch))
                .Select(_ => randn(new[] { batch, seq, layer.DModel }, generator: g).to(BenchDevice.Current).DetachFromDisposeScope()).ToArray();
        }

        public long Calls { get; private set; }

        /// <summary>Takes the layer's present outputs as the targets: the loss is 0 now and masking any head raises it.</summary>
        public void Anchor()
        {
            foreach (var y in _targets) y.Dispose();
            using var g = no_grad();
            bool wasTraining = _layer.training;
            _layer.eval();
            try { _targets = _inputs.Select(x => _layer.forward(x).DetachFromDisposeScope()).ToArray(); }
            finally { if (wasTraining) _layer.train(); }
        }

        public double Loss()
        {
            Calls++;
            bool wasTraining = _layer.training;
            _layer.eval();
            try
            {
                if (_targets.Length != _inputs.Length) Anchor();
                double sum = 0;
                for (int i = 0; i < _inputs.Length; i++)
                {
                    using var scope = NewDisposeScope();
                    sum += (_layer.forward(_inputs[i]) - _targets[i]).square().mean().item<float>();
                }
                return sum / _inputs.Length;
            }
            finally { if (wasTraining) _layer.train(); }
        }

        public void Dispose()
        {
            foreach (var x in _inputs) x.Dispose();
            foreach (var y in _targets) y.Dispose();
        }
    }
}
