using System.Diagnostics;
using Incrt.Attention;
using Incrt.Control;
using Incrt.Models;
using Incrt.Tasks.Data;
using Incrt.Training;
using static TorchSharp.torch;

namespace Incrt.Benchmarks;

/// <summary>Case 6: SST-2 classifier training throughput with the controller on vs off at the same head count, for each
/// preset of <c>--controllers</c>.</summary>
/// <remarks>
/// "On" and "off" are two copies of the same model (same seed, same H, same batches in the same order), timed in
/// interleaved samples. Variants:
/// <list type="bullet">
/// <item><c>energy</c>: <see cref="ControllerPresets.Energy"/>, MaxHeads = H so it cannot grow (as in earlier runs).</item>
/// <item><c>loss, measure-only</c>: <see cref="ControllerPresets.LossAware"/> with the trainer's probe
/// (<see cref="TrainingProbe"/>, <see cref="TrainerOptions.ProbeExamples"/> training examples, wired as
/// <see cref="Trainer.Fit"/> wires it), every rule running but its grow/prune verdicts vetoed
/// (<see cref="BenchControllers.MeasureOnly"/>): the same training work on and off, plus the controller's own
/// measurements. Samples are one prune interval long; checks that find nothing to act on space out
/// (<see cref="LossAwareOptions.MaxPruneEverySteps"/>), so the row is judged by the total over all samples.</item>
/// <item><c>loss, growth allowed</c>: the preset as users get it, MaxHeads = 16: trial heads may be added, kept,
/// withdrawn or heads pruned, so "on" may train a different model; reported, not judged.</item>
/// </list>
/// </remarks>
internal static class EndToEnd
{
    public const int MaxLength = 64, BatchSize = 32, MinFreq = 2, Seed = 1, GrowthMaxHeads = 16;

    /// <summary>Timed samples of a loss-aware row (one prune interval each): with the warm-up, a span of 3,400 steps, about
    /// the SST-2 sample's run (3 epochs of 67k phrases at B = 64).</summary>
    private const int LossSamples = 15;

    /// <summary>One measured on/off comparison.</summary>
    private sealed record Variant(string Label, string Preset, bool MeasureOnly, int Heads, int MaxHeads, bool Judged);

    /// <summary>One configuration: classifier, trainer, (optional) controller and its own batch stream. Both
    /// configurations get a batcher with the same seed, so they see the same batches in the same order.</summary>
    private sealed class Run : IDisposable
    {
        private readonly IEnumerator<SequenceBatch> _batches;
        private readonly IDisposable? _probe, _attached;
        private const long TotalSteps = 1_000_000;                   // learning-rate schedule only

        public Run(int vocab, int[][] ids, int[] labels, Variant v, bool controllerOn)
        {
            manual_seed(Seed);
            var options = new IncrtModelOptions(vocab, MaxLength, DModel: 128, HeadDim: 32, Layers: 1, InitialHeads: 1, MaxHeads: v.MaxHeads,
                Dropout: 0.1, Pooling: Pooling.MaskedMean, Classes: 2, Seed: Seed);
            Model = new IncrtClassifier(options, BenchDevice.Current);
            foreach (var layer in Model.GrowableLayers)
                while (layer.HeadCount < v.Heads) layer.AddHead(HeadInit.Random);
            var trainerOptions = new TrainerOptions();
            Trainer = new Trainer(Model, trainerOptions);
            var batcher = new LengthBucketBatcher(ids, labels, BatchSize, Seed, device: BenchDevice.Current);
            if (controllerOn)
            {
                var preset = BenchControllers.Preset(v.Preset);
                if (v.MeasureOnly) preset = BenchControllers.EveryHeadUseful(preset);
                Controller = new HeadController(Model.GrowableLayers, Trainer.Optimizer, preset,
                    rules: v.MeasureOnly ? BenchControllers.MeasureOnly(preset) : null);
                Controller.HeadChanged += (_, e) => { if (e.Kind is HeadEventKind.Grew or HeadEventKind.Pruned) Events++; };
                if (preset.Growth == GrowthSignal.LossPlateau || preset.Prune == PruneStatistic.MaskedLoss)
                {
                    // What Trainer.Fit does for a controller without a probe: the first ProbeExamples training examples.
                    var probe = TrainingProbe.From(batcher, Model, b => Model.forward(b.Ids, b.KeyPaddingMask), null, trainerOptions.ProbeExamples);
                    _probe = probe;
                    _attached = probe.AttachTo(Controller);
                    var loss = Controller.LossProbe!;
                    Controller.LossProbe = () => { Probes++; return loss(); };
                }
            }
            Trainer.Controller = Controller;
            _batches = Stream(batcher).GetEnumerator();
        }

        public IncrtClassifier Model { get; }
        public Trainer Trainer { get; }
        public HeadController? Controller { get; }
        public int Events { get; private set; }
        public long Probes { get; private set; }
        public long Samples { get; private set; }

        private static IEnumerable<SequenceBatch> Stream(LengthBucketBatcher b)
        {
            for (int epoch = 0; ; epoch++)
                foreach (var batch in b.Epoch(epoch)) yield return batch;
        }

        /// <summary><paramref name="steps"/> steps exactly as <see cref="Trainer.Fit"/> does them (<see cref="Trainer.TrainStep"/>:
        /// the step in a dispose scope, then the controller call).</summary>
        public void Steps(int steps)
        {
            for (int i = 0; i < steps; i++)
            {
                _batches.MoveNext();
                var batch = _batches.Current;
                Samples += batch.Size;
                using (batch) Trainer.TrainStep(batch, TotalSteps);
            }
        }

        public void Dispose()
        {
            _batches.Dispose();
            _attached?.Dispose();
            _probe?.Dispose();
            Controller?.Dispose();
            Trainer.Optimizer.Dispose();
            Model.Dispose();
        }
    }

    public static CaseResult Measure(BenchOptions o)
    {
        int rows = o.Tiny ? 1_000 : o.Quick ? 2_000 : 8_000;
        int reps = o.Tiny ? 3 : o.Quick ? 5 : 9;
        var result = new CaseResult
        {
            Case = "e2e",
            Title = $"SST-2 classifier training (d = 128, d_k = 32, H heads at the start, masked mean, dropout 0.1, B = {BatchSize}, max length {MaxLength}), controller on vs off",
            Threads = o.Threads, Target = "samples/s on/off ≥ 0.97 (≤ 3% overhead; median of interleaved samples, loss rows: total over all samples) at equal heads, for each judged row",
        };

        var folder = o.DataFolder ?? DataPaths.Resolve();
        var all = LabeledTextTsv.Read(DataPaths.Sst2File(folder, "train"));
        var order = Enumerable.Range(0, all.Count).ToArray();
        new Random(Seed).Shuffle(order);
        var train = order.Take(Math.Min(rows, all.Count)).Order().Select(i => all[i]).ToList();
        var vocab = WordVocabulary.Build(train.Select(e => e.Text), MinFreq);
        var ids = train.Select(e => vocab.Encode(e.Text, MaxLength, addCls: true)).ToArray();
        var labels = train.Select(e => e.Label).ToArray();

        var variants = new List<Variant>();
        foreach (int h in o.Grid(new[] { 1, 8 }))
            foreach (var name in o.ControllerNames)
            {
                if (BenchControllers.IsLoss(name))
                {
                    variants.Add(new($"{name}, measure-only", name, MeasureOnly: true, h, MaxHeads: h, Judged: true));
                    variants.Add(new($"{name}, growth allowed", name, MeasureOnly: false, h, MaxHeads: Math.Max(h, GrowthMaxHeads), Judged: false));
                }
                else variants.Add(new(name, name, MeasureOnly: false, h, MaxHeads: h, Judged: true));
            }

        bool met = true;
        var notes = new List<string>();
        foreach (var v in variants)
        {
            var preset = BenchControllers.Preset(v.Preset);
            bool loss = BenchControllers.IsLoss(v.Preset);
            // Energy: 40-step samples (multiples of the interval 5) after the calibration. Loss-aware: samples one prune
            // interval long (PruneEverySteps, 200: exactly one masked-loss check each), after PruneAgeSteps + one interval, so
            // every head is old enough to be probed in every timed sample.
            int stepsPerSample = o.Tiny ? 10 : loss ? preset.LossAware.PruneEverySteps : o.Quick ? 20 : 40;
            int warmup = !loss ? preset.CalibrationCalls * preset.Interval + 10
                : o.Tiny ? 3 * stepsPerSample : preset.LossAware.PruneAgeSteps + preset.LossAware.PruneEverySteps;
            // Loss-aware checks space out while they find nothing to act on (MaxPruneEverySteps), so one sample in a few
            // holds a check: the judged number is the total over a span as long as a short training run, not the median.
            int samples = loss && !o.Tiny ? (o.Quick ? 8 : LossSamples) : reps;
            using var on = new Run(vocab.Count, ids, labels, v, controllerOn: true);
            using var off = new Run(vocab.Count, ids, labels, v, controllerOn: false);
            on.Steps(warmup);
            off.Steps(warmup);
            long callsBefore = on.Controller!.Calls, probesBefore = on.Probes;

            var sOn = new List<double>(); var sOff = new List<double>(); var ratio = new List<double>(); var cpuRatio = new List<double>();
            double wallOn = 0, wallOff = 0;
            for (int rep = 0; rep < samples; rep++)
            {
                // on, off, off, on, …: both see the same batches in this pair
                (double Rate, double CpuRate, double Wall) a, b;
                if (rep % 2 == 0) { a = Sample(on, stepsPerSample); b = Sample(off, stepsPerSample); }
                else { b = Sample(off, stepsPerSample); a = Sample(on, stepsPerSample); }
                sOn.Add(a.Rate); sOff.Add(b.Rate); ratio.Add(a.Rate / b.Rate); cpuRatio.Add(a.CpuRate / b.CpuRate);
                wallOn += a.Wall; wallOff += b.Wall;
                Console.Error.WriteLine($"  e2e H={v.Heads} {v.Label} rep {rep}: on {a.Rate:F1} samples/s, off {b.Rate:F1} samples/s, ratio {a.Rate / b.Rate:F3}");
            }
            double median = Harness.Median(ratio), total = wallOff / wallOn;
            var headsOn = on.Model.GrowableLayers[0].HeadCount;
            var headsOff = off.Model.GrowableLayers[0].HeadCount;
            bool rowMet = (loss ? total : median) >= 0.97 && headsOn == headsOff;
            if (v.Judged) met &= rowMet;
            result.Add(("controller", v.Label), ("train rows", train.Count), ("vocab", vocab.Count), ("H", v.Heads), ("max heads", v.MaxHeads),
                ("warm-up steps", warmup), ("steps/sample", stepsPerSample), ("samples", samples),
                ("on samples/s", Harness.Median(sOn)), ("off samples/s", Harness.Median(sOff)), ("on/off", median),
                ("total on/off", total), ("judged by", loss ? "total" : "median"), ("ratio min", ratio.Min()), ("ratio max", ratio.Max()), ("CPU-time on/off", Harness.Median(cpuRatio)),
                ("controller calls timed", on.Controller.Calls - callsBefore), ("probe losses timed", on.Probes - probesBefore),
                ("prune checks timed", Checks(on, warmup, "checked") + Checks(on, warmup, "vetoed:pruned")), ("vetoed prunes", Checks(on, warmup, "vetoed:pruned")),
                ("heads on/off after", $"{headsOn}/{headsOff}"), ("head events", on.Events), ("≥ 0.97", v.Judged ? rowMet : "not judged"));
        }
        result.TargetMet = met;
        result.Note = "energy: ControllerPresets.Energy, MaxHeads = H so it cannot grow, warm-up covers its calibration. " +
                      $"loss: ControllerPresets.LossAware (the default: PruneProbeHeads = 4, MaxPruneEverySteps = 3200; loss-every: MaxPruneEverySteps = null, a check every PruneEverySteps; loss-unbounded: both null, every head masked in every check) with Trainer's probe ({new TrainerOptions().ProbeExamples} training examples, eval mode); " +
                      $"loss rows: samples of PruneEverySteps steps after PruneAgeSteps + PruneEverySteps warm-up steps ({LossSamples} samples, 8 with --quick), judged by total on/off, since checks that find nothing to act on space out and only some samples hold one; " +
                      "measure-only = every grow/prune verdict vetoed and UsefulAbsolute = UsefulFraction = 0 (a head is useful if masking it raises the probe loss at all: BenchControllers.EveryHeadUseful), so on and off train the same model (the controller's bookkeeping and probe cost); vetoed prunes = checks that still found a head to prune (a run would remove it); " +
                      $"growth allowed = the preset unchanged with MaxHeads = {GrowthMaxHeads} (head changes alter the training work; not judged). " +
                      "total on/off = off wall time / on wall time over all timed samples (the same batches; unlike the median it keeps the samples " +
                      "that hold a growth trial's probes); CPU-time ratio = (samples per CPU-second) on/off" + (o.Tiny ? "; tiny: samples too short to hold a prune check" : "");
        return result;
    }

    /// <summary>Trace rows of the timed samples with decision <paramref name="decision"/>.</summary>
    private static int Checks(Run r, int warmup, string decision) =>
        r.Controller!.Trace.Rows.Count(x => x.Step >= warmup && x.Decision == decision);

    private static (double Rate, double CpuRate, double Wall) Sample(Run r, int steps)
    {
        long s0 = r.Samples;
        double cpu0 = Harness.CpuMs();
        var sw = Stopwatch.StartNew();
        r.Steps(steps);
        double wall = sw.Elapsed.TotalSeconds, cpu = (Harness.CpuMs() - cpu0) / 1e3;
        long n = r.Samples - s0;
        return (n / wall, n / cpu, wall);
    }
}
