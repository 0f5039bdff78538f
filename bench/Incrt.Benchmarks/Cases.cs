using System.Diagnostics;
using Incrt.Attention;
using Incrt.Control;
using Incrt.Energy;
using Incrt.Surgery;
using TorchSharp;
using static TorchSharp.torch;

namespace Incrt.Benchmarks;

internal sealed record BenchOptions(bool Quick, int Threads, int SoakSteps, Settings Timing, int[]? Heads, bool Tiny = false,
    IReadOnlyList<string>? Controllers = null, int[]? DModels = null, int? BatchSize = null, string? DataFolder = null)
{
    public int[] Grid(int[] defaults) => Heads is null ? defaults : Heads;

    /// <summary>The d_model grid of a case: <c>--d-model</c> when given, else the case's own.</summary>
    public long[] DGrid(long[] defaults) => DModels is null ? defaults : DModels.Select(d => (long)d).ToArray();

    /// <summary>Batch size of the train and controller cases (<c>--batch</c>, default <see cref="Cases.Batch"/>).</summary>
    public long B => BatchSize ?? Cases.Batch;

    /// <summary>The presets the controller and e2e cases compare (<see cref="BenchControllers"/>; all when not restricted).</summary>
    public IReadOnlyList<string> ControllerNames => Controllers is { Count: > 0 } c ? c : BenchControllers.All;
}

internal static class Cases
{
    public const long Batch = 32;

    // ------------------------------------------------------------------ case 1 (and 4): training step vs peer
    public static CaseResult TrainingStep(BenchOptions o, List<(long D, int H, long T, double IncrtMs, double PeerMs)> keep)
    {
        var result = new CaseResult
        {
            Case = "train", Title = $"training step (fwd + bwd + AdamW) of GrowableMultiHeadAttention vs nn.MultiheadAttention, B = {o.B}, d_k = d/H",
            Threads = o.Threads, Target = "INCRT/peer ≤ 1.05 (median of interleaved samples)",
        };
        int[] hs = o.Grid(o.Quick ? new[] { 1, 16, 64 } : new[] { 1, 4, 16, 64 });
        long[] ds = o.DGrid(o.Quick ? new long[] { 128 } : new long[] { 128, 256 });
        long[] ts = o.Quick ? new long[] { 32 } : new long[] { 32, 128 };
        bool met = true;
        foreach (var d in ds)
            foreach (var t in ts)
                foreach (var h in hs)
                {
                    using var incrt = new IncrtStep(d, h, d / h, o.B, t);
                    using var peer = new PeerStep(d, h, o.B, t);
                    var p = Harness.Interleaved(incrt.Run, peer.Run, o.Timing);
                    met &= p.MedianRatio <= 1.05;
                    keep.Add((d, h, t, p.MedianA, p.MedianB));
                    result.Add(("d_model", d), ("H", h), ("d_k", d / h), ("T", t), ("INCRT ms", p.MedianA), ("peer ms", p.MedianB),
                        ("INCRT/peer", p.MedianRatio), ("ratio min", p.Ratios.Min()), ("ratio max", p.Ratios.Max()), ("min-time ratio", p.A.Min() / p.B.Min()),
                        ("CPU-time ratio", p.MedianCpuRatio));
                    Console.Error.WriteLine($"  train d={d} H={h} T={t}: {p.MedianA:F3} vs {p.MedianB:F3} ms, ratio {p.MedianRatio:F3} (CPU {p.MedianCpuRatio:F3})");
                }
        result.TargetMet = met;
        return result;
    }

    // ------------------------------------------------------------------ case 4: efficiency
    public static CaseResult Efficiency(BenchOptions o, List<(long D, int H, long T, double IncrtMs, double PeerMs)> steps)
    {
        var result = new CaseResult
        {
            Case = "efficiency", Title = "achieved GFLOP/s of the training step (3 × forward FLOPs) vs a 2048×2048 float32 matmul",
            Threads = o.Threads, Target = "report the fraction (no pass/fail)",
        };
        double peak;
        using (var a = randn(2048, 2048, device: BenchDevice.Current))
        using (var b = randn(2048, 2048, device: BenchDevice.Current))
        {
            var ms = Harness.Median(Harness.Single(() => { using var c = a.matmul(b); }, o.Timing with { Reps = Math.Max(3, o.Timing.Reps / 2) }));
            peak = 2.0 * 2048 * 2048 * 2048 / (ms * 1e6);
        }
        result.Add(("d_model", 2048L), ("H", "matmul"), ("d_k", ""), ("T", ""), ("GFLOP/step", 2.0 * 2048 * 2048 * 2048 / 1e9),
            ("INCRT GFLOP/s", peak), ("peer GFLOP/s", peak), ("INCRT fraction", 1.0), ("peer fraction", 1.0));
        foreach (var s in steps)
        {
            double gf = 3 * Flops.Forward(o.B, s.T, s.D, s.H, s.D / s.H) / 1e9;
            double gi = gf / (s.IncrtMs / 1e3), gp = gf / (s.PeerMs / 1e3);
            result.Add(("d_model", s.D), ("H", s.H), ("d_k", s.D / s.H), ("T", s.T), ("GFLOP/step", gf), ("INCRT GFLOP/s", gi),
                ("peer GFLOP/s", gp), ("INCRT fraction", gi / peak), ("peer fraction", gp / peak));
        }
        result.Note = $"matmul peak measured in this process: {peak:F1} GFLOP/s";
        return result;
    }

    // ------------------------------------------------------------------ case 3: grow / prune latency
    public static CaseResult Surgery(BenchOptions o)
    {
        long[] ds = o.DGrid(new long[] { 256 });
        var result = new CaseResult
        {
            Case = "surgery", Title = $"HeadSurgery.AddHead / RemoveHeads(head 0) with AdamW state, d_model = {string.Join(", ", ds)}, d_k = 64 (default) and d_k = d/H",
            Threads = o.Threads, Target = "≤ 2 ms per event at H = 64; ms per MB of per-head parameters not increasing with H",
        };
        int[] hs = o.Grid(o.Quick ? new[] { 1, 16, 64 } : new[] { 1, 4, 16, 64, 128 });
        bool met = true;
        int events = o.Quick ? 9 : 25;
        foreach (var d in ds)
        foreach (var dkMode in new[] { "64", "d/H" })
        foreach (var h in hs)
        {
            long dk = dkMode == "64" ? 64 : Math.Max(2, d / h);
            using var step = new IncrtStep(d, h, dk, 4, 16, maxHeads: 256);
            step.Run();                                                // creates the AdamW moments
            using var reserved = new IncrtStep(d, h, dk, 4, 16, maxHeads: 256, reserveHeads: true);
            reserved.Run();
            var rng = new Random(7);
            double[] Dir() => Enumerable.Range(0, (int)d).Select(_ => rng.NextDouble() - 0.5).ToArray();
            var grow = new List<double>(); var prune = new List<double>(); var layerOnly = new List<double>(); var draw = new List<double>();
            var counterDraw = new List<double>(); var inRoom = new List<double>();
            using var drawGenerator = new Generator(11);
            for (int i = 0; i < events + 3; i++)
            {
                var init = HeadInit.EigenSeeded(Dir(), Dir());
                double g = Harness.TimeOnce(() => HeadSurgery.AddHead(step.Layer, step.Optimizer, init));
                double p = Harness.TimeOnce(() => HeadSurgery.RemoveHeads(step.Layer, step.Optimizer, new[] { 0 }));
                // Where the time goes: the layer's own resize (no optimizer state; undone untimed so the optimizer's
                // moments match again) and the new head's random draw alone (the layer's CPU float64 draw, moved).
                double l = Harness.TimeOnce(() => step.Layer.AddHead(init));
                step.Layer.RemoveHeads(new[] { step.Layer.HeadCount - 1 });
                double r = Harness.TimeOnce(() =>
                {
                    using var scope = NewDisposeScope();
                    randn(new[] { 1, 3, d, dk }, ScalarType.Float64, CPU, generator: drawGenerator).to(ScalarType.Float32, BenchDevice.Current);
                    randn(new[] { 1, dk, d }, ScalarType.Float64, CPU, generator: drawGenerator).to(ScalarType.Float32, BenchDevice.Current);
                });
                // The same head drawn on the device from a counter (HeadDraw.OnDevice, Auto's choice off the CPU).
                double c = Harness.TimeOnce(() =>
                {
                    using var scope = NewDisposeScope();
                    CounterNormals.Draw(new[] { 4 * d * dk }, (ulong)i, BenchDevice.Current).to(ScalarType.Float32);   // W_QKV and W_O in one draw, as AddHead does
                });
                // AttentionOptions.ReserveHeads: a grow after a grow writes into the room the first one made (the
                // first, untimed, allocates it); both are undone untimed, and that prune drops the room again.
                HeadSurgery.AddHead(reserved.Layer, reserved.Optimizer, init);
                double gr = Harness.TimeOnce(() => HeadSurgery.AddHead(reserved.Layer, reserved.Optimizer, init));
                HeadSurgery.RemoveHeads(reserved.Layer, reserved.Optimizer, new[] { h, h + 1 });
                if (i >= 3) { grow.Add(g); prune.Add(p); layerOnly.Add(l); draw.Add(r); counterDraw.Add(c); inRoom.Add(gr); }   // first three are warm-up
            }
            step.Run();                                                // the layer still trains after surgery
            double perHeadBytes = step.Layer.PerHeadParameters.Sum(p => p.numel() / p.shape[0]) * 4.0;
            double mb = perHeadBytes * h / 1e6;
            double gm = Harness.Median(grow), pm = Harness.Median(prune);
            if (h == 64) met &= gm <= 2 && pm <= 2;
            result.Add(("d_model", d), ("d_k", dk), ("H", h), ("param MB", mb), ("grow ms", gm), ("prune ms", pm), ("grow ms/MB", gm / mb), ("prune ms/MB", pm / mb),
                ("grow p90", Percentile(grow, 0.9)), ("prune p90", Percentile(prune, 0.9)),
                ("layer-only grow ms", Harness.Median(layerOnly)), ("draw ms", Harness.Median(draw)), ("device draw ms", Harness.Median(counterDraw)), ("reserved grow ms", Harness.Median(inRoom)));
            Console.Error.WriteLine($"  surgery d={d} d_k={dk} H={h}: grow {gm:F3} ms, prune {pm:F3} ms ({mb:F2} MB)");
        }
        result.TargetMet = met;
        result.Note = "param MB = H × per-head parameter bytes (W_QKV, b_QKV, W_O); the AdamW moments add 2× that. " +
            $"grow uses the layer's default HeadDraw.Auto (on {BenchDevice.Current.type}: {(BenchDevice.Current.type == DeviceType.CPU ? "the CPU generator" : "drawn on the device")}). " +
            "layer-only grow = GrowableMultiHeadAttention.AddHead without resizing optimizer state; draw = one head's CPU float64 normals (W_QKV, W_O) moved to the device; " +
            "device draw = the same head's normals computed on the device from a counter (CounterNormals, HeadDraw.OnDevice); " +
            "reserved grow = a grow right after a grow on a layer with AttentionOptions.ReserveHeads (written into the room the first made)" + CounterAgreement(ds[0]);
        return result;
    }

    /// <summary>Off the CPU: the largest difference between a counter draw on the device and the same draw on the CPU
    /// (the draw is meant to depend on the seed and shape only).</summary>
    private static string CounterAgreement(long d)
    {
        if (BenchDevice.Current.type == DeviceType.CPU) return "";
        using var scope = NewDisposeScope();
        var shape = new[] { 3, d, 64L };
        double diff = (CounterNormals.Draw(shape, 42, BenchDevice.Current).cpu() - CounterNormals.Draw(shape, 42, CPU)).abs().max().item<double>();
        return $"; counter draw on {BenchDevice.Current} vs CPU, {3 * d * 64} normals: max |difference| {diff:E2}";
    }

    private static double Percentile(List<double> v, double q)
    {
        var s = v.OrderBy(x => x).ToArray();
        return s[Math.Min(s.Length - 1, (int)Math.Floor(q * s.Length))];
    }

    // ------------------------------------------------------------------ case 5: memory soak
    public static CaseResult Soak(BenchOptions o)
    {
        int steps = o.SoakSteps;
        const int every = 500, eventEvery = 50;
        int warmup = Math.Min(2000, steps / 4);
        var result = new CaseResult
        {
            Case = "soak", Title = $"{steps} training steps (d = 128, d_k = 32, B = 8, T = 32) with a grow or prune every {eventEvery} steps",
            Threads = o.Threads, Target = $"live tensors and RSS drift ≤ 5% after {warmup} warm-up steps",
        };
        using var step = new IncrtStep(128, 4, 32, 8, 32, maxHeads: 16);
        var rng = new Random(3);
        int events = 0;
        long baseLive = -1, baseRss = -1;
        double maxLiveDrift = 0, maxRssDrift = 0;
        // NaN injection (issue 10): a controller lives over steps [nanFrom, nanTo) only (created and disposed between two
        // memory samples), calibrates, then gets a NaN loss on one acting call and a NaN input batch on another. Its
        // thresholds keep it from growing or pruning on its own (θ_w huge, φ_g tiny), so the window leaves the layer's
        // size, and hence the memory baseline, as it was; the surgery events every 50 steps go on meanwhile.
        int nanFrom = steps / 2 / every * every + 1, nanTo = nanFrom + 300;
        int nanLossStep = nanFrom + 148, nanInputStep = nanFrom + 198;       // (s + 1) % 5 == 0: acting controller calls
        var nan = new NanCheck();
        HeadController? controller = null;
        // One throwaway controller's first calls before the loop load what a controller loads once (CUDA loads its
        // solver libraries lazily: ≈ 230 MB of host RSS appeared at the NaN window on an H200), so the drift is the loop's.
        using (var warm = new HeadController(new[] { step.Layer }, step.Optimizer, new ControllerOptions { ThetaW = 1e30, PhiG = 1e-300 }))
            for (int k = 0; k < 10; k++) { step.Run(); warm.Step(k); }
        var sw = Stopwatch.StartNew();
        for (int s = 1; s <= steps; s++)
        {
            if (s == nanFrom && nanTo <= steps) controller = new HeadController(new[] { step.Layer }, step.Optimizer, new ControllerOptions { ThetaW = 1e30, PhiG = 1e-300 });
            if (controller is null) step.Run();
            else
            {
                int before = step.Layer.HeadCount;
                double loss;
                if (s == nanInputStep)
                {
                    using var scope = NewDisposeScope();
                    var bad = step.X.clone();
                    bad[0, 0, 0] = tensor(float.NaN);
                    loss = step.RunGuarded(bad);
                    var ev = controller.Step(s);                       // reads the layer's last (NaN) input
                    nan.InputLoss = loss;
                    nan.InputCallSkipped = ev.Count > 0 && ev.All(e => e.Kind == HeadEventKind.SkippedNonFinite);
                    nan.InputHeadsUnchanged = step.Layer.HeadCount == before;
                }
                else
                {
                    loss = step.RunGuarded();
                    if (s == nanLossStep)
                    {
                        var ev = controller.Step(s, double.NaN);
                        nan.LossCallSkipped = ev.Count > 0 && ev.All(e => e.Kind == HeadEventKind.SkippedNonFinite);
                        nan.LossHeadsUnchanged = step.Layer.HeadCount == before;
                    }
                    else
                    {
                        var ev = controller.Step(s, loss);
                        nan.ControllerEvents += ev.Count(e => e.Kind is HeadEventKind.Grew or HeadEventKind.Pruned);
                    }
                    if (s > nanLossStep)
                    {
                        nan.StepsAfter++;
                        if (!double.IsFinite(loss)) nan.NonFiniteAfter++;
                        nan.LastLoss = loss;
                    }
                }
                if (s + 1 == nanTo)
                {
                    using (NewDisposeScope())
                        nan.ParametersFinite = step.Layer.parameters().All(p => isfinite(p).all().item<bool>());
                    controller.Dispose();
                    controller = null;
                    nan.Ran = true;
                }
            }
            if (s % eventEvery == 0)
            {
                if (events % 2 == 0)
                    HeadSurgery.AddHead(step.Layer, step.Optimizer,
                        HeadInit.EigenSeeded(Enumerable.Range(0, 128).Select(_ => rng.NextDouble() - 0.5).ToArray()));
                else
                    HeadSurgery.RemoveHeads(step.Layer, step.Optimizer, new[] { rng.Next(step.Layer.HeadCount) });
                events++;
            }
            if (s % every == 0)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                GC.Collect();
                long live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
                long rss = Rss();
                string phase = s < warmup ? "warm-up" : "measured";
                double liveDrift = double.NaN, rssDrift = double.NaN;
                if (s >= warmup)
                {
                    if (baseLive < 0) { baseLive = live; baseRss = rss; }
                    liveDrift = (live - baseLive) / (double)Math.Max(1, baseLive);
                    rssDrift = (rss - baseRss) / (double)baseRss;
                    maxLiveDrift = Math.Max(maxLiveDrift, liveDrift);
                    maxRssDrift = Math.Max(maxRssDrift, rssDrift);
                }
                result.Add(("step", s), ("phase", phase), ("heads", step.Layer.HeadCount), ("events", events), ("live tensors", live),
                    ("RSS MB", rss / 1e6), ("live drift", liveDrift), ("RSS drift", rssDrift), ("elapsed s", sw.Elapsed.TotalSeconds));
                Console.Error.WriteLine($"  soak step {s}: live {live}, RSS {rss / 1e6:F1} MB, events {events}");
            }
        }
        controller?.Dispose();
        bool nanOk = !nan.Ran || nan.Passed;
        result.TargetMet = maxLiveDrift <= 0.05 && maxRssDrift <= 0.05 && events >= Math.Min(100, steps / eventEvery) && nanOk;
        result.Note = $"max drift after warm-up: live tensors {maxLiveDrift:P2}, RSS {maxRssDrift:P2}; {events} grow/prune events; " +
                      (nan.Ran ? $"NaN injection {(nan.Passed ? "passed" : "FAILED")}" : "NaN injection not run (too few steps)");
        if (nan.Ran)
            result.Checks = new()
            {
                ["NaN injection steps"] = $"controller over steps {nanFrom}–{nanTo - 1}; Step({nanLossStep}, NaN); NaN input at step {nanInputStep}",
                ["NaN loss: call skipped"] = nan.LossCallSkipped,
                ["NaN loss: heads unchanged"] = nan.LossHeadsUnchanged,
                ["NaN input: loss"] = nan.InputLoss,
                ["NaN input: call skipped"] = nan.InputCallSkipped,
                ["NaN input: heads unchanged"] = nan.InputHeadsUnchanged,
                ["steps after injection"] = nan.StepsAfter,
                ["non-finite losses after (excl. the NaN input step)"] = nan.NonFiniteAfter,
                ["last loss"] = nan.LastLoss,
                ["parameters finite"] = nan.ParametersFinite,
                ["controller grow/prune events in window"] = nan.ControllerEvents,
                ["passed"] = nan.Passed,
            };
        return result;
    }

    private sealed class NanCheck
    {
        public bool Ran, LossCallSkipped, LossHeadsUnchanged, InputCallSkipped, InputHeadsUnchanged, ParametersFinite;
        public double InputLoss = double.NaN, LastLoss = double.NaN;
        public int StepsAfter, NonFiniteAfter, ControllerEvents;
        public bool Passed => LossCallSkipped && LossHeadsUnchanged && InputCallSkipped && InputHeadsUnchanged && ParametersFinite
                              && StepsAfter > 0 && NonFiniteAfter == 0 && double.IsFinite(LastLoss);
    }

    /// <summary>Resident set size in bytes (/proc/self/statm on Linux, the working set elsewhere).</summary>
    private static long Rss()
    {
        try
        {
            var fields = File.ReadAllText("/proc/self/statm").Split(' ');
            return long.Parse(fields[1]) * Environment.SystemPageSize;
        }
        catch (IOException) { return Environment.WorkingSet; }
        catch (UnauthorizedAccessException) { return Environment.WorkingSet; }
    }
}
