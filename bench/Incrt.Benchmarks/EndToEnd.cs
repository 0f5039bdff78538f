using System.Diagnostics;
using Incrt.Attention;
using Incrt.Control;
using Incrt.Models;
using Incrt.Tasks.Data;
using Incrt.Training;
using static TorchSharp.torch;

namespace Incrt.Benchmarks;

/// <summary>Case 6: SST-2 classifier training throughput with the controller on vs off at the same head count.</summary>
internal static class EndToEnd
{
    public const int MaxLength = 64, BatchSize = 32, MinFreq = 2, Seed = 1;

    /// <summary>One configuration: classifier, trainer, (optional) controller and its own batch stream. Both
    /// configurations get a batcher with the same seed, so they see the same batches in the same order.</summary>
    private sealed class Run : IDisposable
    {
        private readonly IEnumerator<SequenceBatch> _batches;
        private const long TotalSteps = 1_000_000;                   // learning-rate schedule only

        public Run(int vocab, int heads, int[][] ids, int[] labels, bool controllerOn)
        {
            manual_seed(Seed);
            var options = new IncrtModelOptions(vocab, MaxLength, DModel: 128, HeadDim: 32, Layers: 1, InitialHeads: 1, MaxHeads: heads,
                Dropout: 0.1, Pooling: Pooling.MaskedMean, Classes: 2, Seed: Seed);
            Model = new IncrtClassifier(options, BenchDevice.Current);
            foreach (var layer in Model.GrowableLayers)
                while (layer.HeadCount < heads) layer.AddHead(HeadInit.Random);
            Trainer = new Trainer(Model, new TrainerOptions());
            if (controllerOn)
            {
                Controller = new HeadController(Model.GrowableLayers, Trainer.Optimizer, new ControllerOptions());
                Controller.HeadChanged += (_, e) => { if (e.Kind is HeadEventKind.Grew or HeadEventKind.Pruned) Events++; };
            }
            Trainer.Controller = Controller;
            _batches = Stream(new LengthBucketBatcher(ids, labels, BatchSize, Seed, device: BenchDevice.Current)).GetEnumerator();
        }

        public IncrtClassifier Model { get; }
        public Trainer Trainer { get; }
        public HeadController? Controller { get; }
        public int Events { get; private set; }
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
            Controller?.Dispose();
            Trainer.Optimizer.Dispose();
            Model.Dispose();
        }
    }

    public static CaseResult Measure(BenchOptions o)
    {
        int heads = 8;
        int rows = o.Tiny ? 1_000 : o.Quick ? 2_000 : 8_000;
        int stepsPerSample = o.Tiny ? 10 : o.Quick ? 20 : 40;        // multiples of the controller interval (5)
        int reps = o.Tiny ? 3 : o.Quick ? 5 : 9;
        var calibrationSteps = new ControllerOptions().CalibrationCalls * new ControllerOptions().Interval;
        int warmup = calibrationSteps + 10;                          // the controller's calibration is over before timing
        var result = new CaseResult
        {
            Case = "e2e",
            Title = $"SST-2 classifier training (d = 128, d_k = 32, H = {heads} fixed, masked mean, dropout 0.1, B = {BatchSize}, max length {MaxLength}), controller on vs off",
            Threads = o.Threads, Target = "samples/s on/off ≥ 0.97 (≤ 3% overhead; median of interleaved samples)",
        };

        var folder = DataPaths.Resolve();
        var all = LabeledTextTsv.Read(DataPaths.Sst2File(folder, "train"));
        var order = Enumerable.Range(0, all.Count).ToArray();
        new Random(Seed).Shuffle(order);
        var train = order.Take(Math.Min(rows, all.Count)).Order().Select(i => all[i]).ToList();
        var vocab = WordVocabulary.Build(train.Select(e => e.Text), MinFreq);
        var ids = train.Select(e => vocab.Encode(e.Text, MaxLength, addCls: true)).ToArray();
        var labels = train.Select(e => e.Label).ToArray();

        using var on = new Run(vocab.Count, heads, ids, labels, controllerOn: true);
        using var off = new Run(vocab.Count, heads, ids, labels, controllerOn: false);
        on.Steps(warmup);
        off.Steps(warmup);
        long callsBefore = on.Controller!.Calls;

        var sOn = new List<double>(); var sOff = new List<double>(); var ratio = new List<double>(); var cpuRatio = new List<double>();
        for (int rep = 0; rep < reps; rep++)
        {
            // on, off, off, on, …: both see the same batches in this pair
            (double Rate, double CpuRate) a, b;
            if (rep % 2 == 0) { a = Sample(on, stepsPerSample); b = Sample(off, stepsPerSample); }
            else { b = Sample(off, stepsPerSample); a = Sample(on, stepsPerSample); }
            sOn.Add(a.Rate); sOff.Add(b.Rate); ratio.Add(a.Rate / b.Rate); cpuRatio.Add(a.CpuRate / b.CpuRate);
            Console.Error.WriteLine($"  e2e rep {rep}: on {a.Rate:F1} samples/s, off {b.Rate:F1} samples/s, ratio {a.Rate / b.Rate:F3}");
        }
        double median = Harness.Median(ratio);
        var headsOn = on.Model.GrowableLayers[0].HeadCount;
        var headsOff = off.Model.GrowableLayers[0].HeadCount;
        result.Add(("train rows", train.Count), ("vocab", vocab.Count), ("H", heads), ("steps/sample", stepsPerSample), ("samples", reps),
            ("on samples/s", Harness.Median(sOn)), ("off samples/s", Harness.Median(sOff)), ("on/off", median),
            ("ratio min", ratio.Min()), ("ratio max", ratio.Max()), ("CPU-time on/off", Harness.Median(cpuRatio)),
            ("controller calls timed", on.Controller.Calls - callsBefore), ("heads on/off after", $"{headsOn}/{headsOff}"), ("head events", on.Events));
        result.TargetMet = median >= 0.97 && headsOn == headsOff;
        result.Note = $"warm-up {warmup} steps per configuration (covers the controller's {new ControllerOptions().CalibrationCalls}-call calibration); " +
                      "default ControllerOptions, MaxHeads = H so it cannot grow; CPU-time ratio = (samples per CPU-second) on/off";
        return result;
    }

    private static (double Rate, double CpuRate) Sample(Run r, int steps)
    {
        long s0 = r.Samples;
        double cpu0 = Harness.CpuMs();
        var sw = Stopwatch.StartNew();
        r.Steps(steps);
        double wall = sw.Elapsed.TotalSeconds, cpu = (Harness.CpuMs() - cpu0) / 1e3;
        long n = r.Samples - s0;
        return (n / wall, n / cpu);
    }
}
