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
    /// the block solver, each with the default statistic, and LeaveOneOut (H batched eigvalsh).</summary>
    private static readonly (EstimatorMode Mode, PruneStatistic Prune)[] EnergyConfigs =
    {
        (EstimatorMode.Online, PruneStatistic.Reference), (EstimatorMode.Exact, PruneStatistic.Reference),
        (EstimatorMode.Block, PruneStatistic.Reference), (EstimatorMode.Exact, PruneStatistic.LeaveOneOut),
    };

    public static CaseResult Measure(BenchOptions o)
    {
        var result = new CaseResult
        {
            Case = "controller", Title = "HeadController cost vs one training step, d_model = 256, B = 32, d_k = d/H",
            Threads = o.Threads, Target = "controller time per training step ≤ 3% of the step (amortised over the calls that act)",
        };
        long d = 256;
        long[] ts = o.Quick ? new long[] { 32 } : new long[] { 32, 128 };
        int[] hs = o.Grid(o.Quick ? new[] { 1, 64 } : new[] { 1, 16, 64 });
        bool met = true;
        foreach (var t in ts)
            foreach (var h in hs)
                foreach (var name in o.ControllerNames)
                    met &= BenchControllers.IsLoss(name) ? LossAware(o, result, d, t, h, name) : Energy(o, result, d, t, h);
        result.TargetMet = met;
        result.Note = "energy rows: one acting call (Interval = 5) with θ_w huge, φ_g tiny and an endless leave-one-out window, so every call " +
            "measures fully and never changes the layer; amortised = call / (5 × step). loss rows: ControllerPresets.LossAware (a check masks min(H, PruneProbeHeads = 4) heads; loss-unbounded: all H) with its " +
            $"grow/prune verdicts vetoed, probe = the layer's mean squared output on {new TrainerOptions().ProbeExamples} examples in batches of B " +
            "(Trainer's probe size, eval mode, no_grad); call ms = one prune interval of controller calls (PruneEverySteps, one masked-loss check " +
            $"of min(H, 4) + 1 probe losses, H + 1 for loss-unbounded) / {Loss.PruneEverySteps / ControllerPresets.LossAware.Interval} acting calls, amortised = median over timed intervals of interval / ({Loss.PruneEverySteps} × step), each interval paired with a step sample taken right after it, probes/interval counted on one more interval; probe ms = median of 3 probe losses; trial amortised = the 2 probes every {Loss.ProbeEverySteps} steps " +
            $"of a growth trial ({TrialProbes(Loss)} per {Loss.PruneEverySteps} steps, no prune checks meanwhile) / ({Loss.PruneEverySteps} × step). At H = 1 nothing is ever pruned, so no check runs.";
        return result;
    }

    private static bool Energy(BenchOptions o, CaseResult result, long d, long t, int h)
    {
        bool met = true;
        foreach (var (mode, prune) in EnergyConfigs)
        {
            using var step = new IncrtStep(d, h, d / h, Cases.Batch, t, maxHeads: h);
            step.Run();
            // θ_w huge → never grows; φ_g tiny and an endless leave-one-out window → never prunes: every call does the full measurement.
            var options = ControllerPresets.Energy with
            {
                Interval = 1, ThetaW = 1e30, PhiG = 1e-300, Prune = prune, LeaveOneOutWindow = int.MaxValue,
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
            result.Add(("T", t), ("H", h), ("controller", BenchControllers.Energy), ("mode", mode.ToString()), ("prune stat", prune.ToString()),
                ("call ms", p.MedianA), ("step ms", p.MedianB), ("call/step", p.MedianRatio), ("amortised", amortised), ("≤ 3%", amortised <= 0.03),
                ("CPU-time amortised", p.MedianCpuRatio / 5));
            Console.Error.WriteLine($"  controller T={t} H={h} {mode} {prune}: {p.MedianA:F3} ms vs step {p.MedianB:F3} ms, amortised {amortised:P2} (CPU {p.MedianCpuRatio / 5:P2})");
        }
        return met;
    }

    private static LossAwareOptions Loss => ControllerPresets.LossAware.LossAware;

    /// <summary>Probe losses of a growth trial per prune interval: masked and unmasked, every ProbeEverySteps.</summary>
    private static int TrialProbes(LossAwareOptions l) => 2 * l.PruneEverySteps / l.ProbeEverySteps;

    private static bool LossAware(BenchOptions o, CaseResult result, long d, long t, int h, string name)
    {
        var preset = BenchControllers.Preset(name);
        int interval = preset.LossAware.PruneEverySteps;               // one masked-loss check per interval (200 steps: 40 acting calls)
        using var step = new IncrtStep(d, h, d / h, Cases.Batch, t, maxHeads: h);
        step.Run();
        using var probe = new LayerProbe(step.Layer, new TrainerOptions().ProbeExamples, Cases.Batch, t);
        using var controller = new HeadController(new[] { step.Layer }, step.Optimizer, preset, rules: BenchControllers.MeasureOnly(preset))
        {
            LossProbe = probe.Loss,
        };
        long k = 0;
        void Calls(int n)
        {
            for (int i = 0; i < n; i++)
            {
                var events = controller.Step(k++, 1.0);               // a flat loss: a plateau at every window, MaxHeads = H stops growth
                if (events.Count != 0) throw new InvalidOperationException("The benchmark controller changed the layer.");
            }
        }
        Calls(preset.LossAware.PruneAgeSteps);                         // heads old enough: every interval from here holds a check
        long before = probe.Calls;
        Calls(interval);
        long probesPerInterval = probe.Calls - before;
        // An interval costs one masked-loss check (seconds at large H and T), so a few timed intervals, each paired with
        // a sample of training steps taken right after it, rather than the harness's calibrated repetitions.
        int reps = o.Tiny ? 1 : o.Quick ? 2 : 3;
        int n = Harness.InnerCount(step.Run, o.Timing.SampleMs);
        var ratios = new List<double>(); var cpuRatios = new List<double>(); var intervals = new List<double>(); var steps = new List<double>();
        for (int rep = 0; rep < reps; rep++)
        {
            double cpu0 = Harness.CpuMs();
            double ms = Harness.TimeOnce(() => Calls(interval));
            double cpu = Harness.CpuMs() - cpu0;
            double stepMs = Harness.Single(step.Run, new Settings(Warmup: 0, Reps: 1, o.Timing.SampleMs))[0];
            intervals.Add(ms); steps.Add(stepMs);
            ratios.Add(ms / stepMs); cpuRatios.Add(cpu / Harness.LastCpuMs);
        }
        double intervalMs = Harness.Median(intervals), stepMedian = Harness.Median(steps);
        double amortised = Harness.Median(ratios) / interval;
        double probeMs = Harness.Median(Enumerable.Range(0, 3).Select(_ => Harness.TimeOnce(() => { using var g = no_grad(); probe.Loss(); })).ToList());
        double trial = TrialProbes(preset.LossAware) * probeMs / (interval * stepMedian);
        int acting = interval / preset.Interval;
        result.Add(("T", t), ("H", h), ("controller", name), ("mode", "measure-only"), ("prune stat", preset.Prune.ToString()),
            ("call ms", intervalMs / acting), ("step ms", stepMedian), ("call/step", intervalMs / acting / stepMedian),
            ("amortised", amortised), ("≤ 3%", amortised <= 0.03), ("CPU-time amortised", Harness.Median(cpuRatios) / interval),
            ("probe ms", probeMs), ("probes/interval", probesPerInterval), ("trial amortised", trial), ("intervals timed", reps));
        Console.Error.WriteLine($"  controller T={t} H={h} {name}: {intervalMs:F1} ms per {interval} calls vs step {stepMedian:F3} ms, amortised {amortised:P2}, probe {probeMs:F2} ms, trial {trial:P2}");
        return amortised <= 0.03;
    }

    /// <summary>A loss probe for a lone layer, sized as the one <see cref="Trainer"/> gives the controller
    /// (<see cref="TrainerOptions.ProbeExamples"/> examples in batches of B, eval mode, one host read per batch): the
    /// layer's mean squared output, the training step's loss, on fixed random inputs.</summary>
    private sealed class LayerProbe : IDisposable
    {
        private readonly GrowableMultiHeadAttention _layer;
        private readonly Tensor[] _inputs;

        public LayerProbe(GrowableMultiHeadAttention layer, int examples, long batch, long seq)
        {
            _layer = layer;
            using var g = new Generator(29);
            _inputs = Enumerable.Range(0, (int)Math.Ceiling(examples / (double)batch))
                .Select(_ => randn(new[] { batch, seq, layer.DModel }, generator: g).to(BenchDevice.Current).DetachFromDisposeScope()).ToArray();
        }

        public long Calls { get; private set; }

        public double Loss()
        {
            Calls++;
            bool wasTraining = _layer.training;
            _layer.eval();
            try
            {
                double sum = 0;
                foreach (var x in _inputs)
                {
                    using var scope = NewDisposeScope();
                    sum += _layer.forward(x).square().mean().item<float>();
                }
                return sum / _inputs.Length;
            }
            finally { if (wasTraining) _layer.train(); }
        }

        public void Dispose()
        {
            foreach (var x in _inputs) x.Dispose();
        }
    }
}
