using Incrt.Attention;
using Incrt.Control;
using Incrt.Energy;
using TorchSharp;
using static TorchSharp.torch;

namespace Incrt.Benchmarks;

/// <summary>Case "estimator": the spectral read alone. A short seeded training of one growable layer under the exact
/// energy rule records the residual operators the rule read; the exact (eigh) and the block estimator then observe
/// that sequence, interleaved, and their readings are compared (λmax error, grow-gate and dwell agreement).</summary>
internal static class EstimatorCase
{
    public static CaseResult Measure(BenchOptions o)
    {
        var result = new CaseResult
        {
            Case = "estimator", Title = "DirectionalEnergyEstimator.ObserveOperator on a recorded operator sequence: Block vs Exact (eigh)",
            Threads = o.Threads, Target = "report Block/Exact time; identical gate decisions and dwell, λmax within 1 %",
        };
        long[] widths = o.Tiny ? new long[] { 160 } : o.Quick ? new long[] { 256 } : new long[] { 160, 256, 512 };
        foreach (var d in widths)
        {
            var (ops, thresholds) = Record(d, o.Tiny ? 100 : 300);
            try
            {
                using var exact = new DirectionalEnergyEstimator((int)d, new EstimatorOptions { Mode = EstimatorMode.Exact });
                using var block = new DirectionalEnergyEstimator((int)d, new EstimatorOptions { Mode = EstimatorMode.Block });
                var c = new ControllerOptions();
                double worst = 0;
                int gateDiff = 0, dwellDiff = 0;
                for (int i = 0; i < ops.Count; i++)
                {
                    var e = exact.ObserveOperator(ops[i]);
                    var b = block.ObserveOperator(ops[i]);
                    worst = Math.Max(worst, Math.Abs(b.LambdaMax - e.LambdaMax) / Math.Abs(e.LambdaMax));
                    if (GrowthGate.DwellCalls(b.GapPlus, block.EtaPlus, c.KappaT, c.Epsilon, c.DwellWithoutGap, c.MaxDwellCalls) !=
                        GrowthGate.DwellCalls(e.GapPlus, exact.EtaPlus, c.KappaT, c.Epsilon, c.DwellWithoutGap, c.MaxDwellCalls)) dwellDiff++;
                    if (thresholds[i] is { } t && GrowthGate.EnergyAboveThreshold(b.LambdaMax, b.LambdaMin, t.ThetaW, t.PhiW) !=
                        GrowthGate.EnergyAboveThreshold(e.LambdaMax, e.LambdaMin, t.ThetaW, t.PhiW)) gateDiff++;
                }
                int k = 0, m = 0;
                var p = Harness.Interleaved(() => block.ObserveOperator(ops[k++ % ops.Count]), () => exact.ObserveOperator(ops[m++ % ops.Count]), o.Timing);
                var (solved, fallbacks) = block.BlockCalls;
                result.Add(("d", d), ("operators", ops.Count), ("block ms", p.MedianA), ("exact ms", p.MedianB), ("block/exact", p.MedianRatio),
                    ("CPU-time ratio", p.MedianCpuRatio), ("solved", solved), ("fell back", fallbacks), ("max λmax rel. error", worst),
                    ("gate differs", gateDiff), ("dwell differs", dwellDiff));
                Console.Error.WriteLine($"  estimator d={d}: block {p.MedianA:F3} ms vs exact {p.MedianB:F3} ms ({p.MedianRatio:F3}), solved {solved}, fell back {fallbacks}, λmax error {worst:E1}, gate/dwell differ {gateDiff}/{dwellDiff}");
            }
            finally
            {
                foreach (var a in ops) a.Dispose();
            }
        }
        result.Note = "operators recorded every 5th step of a seeded training (B = 8, T = 16, d_k = 16, grown from one head by the exact energy rule); the timing cycles through the sequence, so the block solver is warm-started from the previous operator as in training";
        return result;
    }

    /// <summary>A_res before every acting controller call of a seeded training, with the thresholds after it.</summary>
    private static (List<Tensor> Operators, List<EnergyThresholds?> Thresholds) Record(long d, int steps)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(5);
        using var layer = new GrowableMultiHeadAttention(new AttentionOptions(d, 16, 1, 64, Device: BenchDevice.Current, Seed: 3));
        using var optimizer = optim.AdamW(layer.parameters().ToArray(), lr: 3e-3);
        var options = new ControllerOptions { Estimator = new EstimatorOptions { Mode = EstimatorMode.Exact } };
        using var controller = new HeadController(new[] { layer }, optimizer, options);
        var mix = randn(new long[] { d, d }, generator: generator).to(BenchDevice.Current) / Math.Sqrt(d);
        var ops = new List<Tensor>();
        var thresholds = new List<EnergyThresholds?>();
        for (long step = 0; step < steps; step++)
        {
            using var inner = NewDisposeScope();
            var x = randn(new long[] { 8, 16, d }, generator: generator).to(BenchDevice.Current);
            optimizer.zero_grad();
            var loss = (layer.forward(x) - (x.roll(1, 1).matmul(mix) + x.roll(-2, 1) * 0.5)).square().mean();
            loss.backward();
            optimizer.step();
            bool acting = (step + 1) % options.Interval == 0;
            if (acting)
            {
                var c = ResidualOperator.Covariance(x, null).to(ScalarType.Float64);   // x: the layer's input this step
                ops.Add(ResidualOperator.Build(c, layer.Motor().to(ScalarType.Float64), controller.Basis(0)).DetachFromDisposeScope());
            }
            controller.Step(step, loss.item<float>());
            if (acting) thresholds.Add(controller.Thresholds(0));
        }
        return (ops, thresholds);
    }
}
