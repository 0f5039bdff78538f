namespace Incrt.Benchmarks;

/// <summary>Case 7: where a training step's time goes, INCRT's layer against nn.MultiheadAttention part by part — the
/// forward alone (no_grad), forward + backward, the AdamW step alone, the whole step — at a size where the arithmetic
/// is negligible (so the per-call host overhead shows: validation, views, dispatch, dispose scopes) and at the small-T
/// sizes of the train grid.</summary>
internal static class OverheadCase
{
    public static CaseResult Measure(BenchOptions o)
    {
        var result = new CaseResult
        {
            Case = "overhead", Title = "training step part by part, GrowableMultiHeadAttention vs nn.MultiheadAttention, d_k = d/H",
            Threads = o.Threads, Target = "report (no pass/fail): the fixed per-call cost and which part of the step differs",
        };
        var sizes = new List<(long D, long T, long B, int H)> { (16, 2, 1, 1) };
        foreach (int h in o.Grid(o.Tiny ? new[] { 1 } : new[] { 1, 4 })) sizes.Add((128, 32, Cases.Batch, h));
        foreach (var (d, t, b, h) in sizes)
        {
            // A fresh pair per part: the AdamW part repeats updates with one gradient (thousands at small sizes), which
            // moves every weight by up to lr per update, far from anything training produces; a part timed after it
            // would time a different layer.
            foreach (var part in new[] { "forward (no_grad)", "forward + backward", "AdamW step", "whole step" })
            {
                using var incrt = new IncrtStep(d, h, d / h, b, t);
                using var peer = new PeerStep(d, h, b, t);
                incrt.Run();
                peer.Run();
                (Action a, Action c) = part switch
                {
                    "forward (no_grad)" => ((Action)incrt.Forward, (Action)peer.Forward),
                    "forward + backward" => (incrt.ForwardBackward, peer.ForwardBackward),
                    "AdamW step" => (incrt.OptimizerStep, peer.OptimizerStep),
                    _ => (incrt.Run, peer.Run),
                };
                var p = Harness.Interleaved(a, c, o.Timing);
                result.Add(("d_model", d), ("T", t), ("B", b), ("H", h), ("part", part), ("INCRT ms", p.MedianA), ("peer ms", p.MedianB),
                    ("INCRT − peer µs", (p.MedianA - p.MedianB) * 1e3), ("INCRT/peer", p.MedianRatio), ("ratio min", p.Ratios.Min()),
                    ("ratio max", p.Ratios.Max()), ("min-time ratio", p.A.Min() / p.B.Min()), ("CPU-time ratio", p.MedianCpuRatio));
                Console.Error.WriteLine($"  overhead d={d} T={t} B={b} H={h} {part}: {p.MedianA * 1e3:F1} vs {p.MedianB * 1e3:F1} µs, ratio {p.MedianRatio:F3}");
            }
        }
        result.Note = "min-time ratio = fastest INCRT sample / fastest peer sample (the least disturbed by other processes on a shared box); " +
            "the AdamW rows time the optimizer alone on the gradients of the last backward";
        return result;
    }
}
