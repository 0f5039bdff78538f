using Incrt.Attention;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Incrt.Benchmarks;

/// <summary>A training step (forward + backward + AdamW step) of an attention layer on a fixed input, and its parts
/// alone for the overhead case: the forward under no_grad, forward + backward without the optimizer, the optimizer step
/// alone (on the gradients the last backward left). The loss is the output's mean square.</summary>
internal abstract class StepWorkload : IDisposable
{
    public optim.Optimizer Optimizer { get; protected init; } = null!;
    public Tensor X { get; protected init; } = null!;

    /// <summary>The layer's output for input <paramref name="x"/> (B, T, d).</summary>
    protected abstract Tensor Output(Tensor x);

    public void Run()
    {
        using var scope = NewDisposeScope();
        Optimizer.zero_grad();
        var loss = Output(X).square().mean();
        loss.backward();
        Optimizer.step();
    }

    /// <inheritdoc cref="StepWorkload"/>
    public void Forward()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Output(X);
    }

    /// <inheritdoc cref="StepWorkload"/>
    public void ForwardBackward()
    {
        using var scope = NewDisposeScope();
        Optimizer.zero_grad();
        Output(X).square().mean().backward();
    }

    /// <inheritdoc cref="StepWorkload"/>
    public void OptimizerStep()
    {
        using var scope = NewDisposeScope();
        Optimizer.step();
    }

    protected static Tensor Input(long batch, long seq, long dModel, ulong seed)
    {
        using var g = new Generator(seed + 17);
        return randn(new[] { batch, seq, dModel }, generator: g).to(BenchDevice.Current).DetachFromDisposeScope();
    }

    public virtual void Dispose()
    {
        Optimizer.Dispose();
        X.Dispose();
    }
}

/// <summary>INCRT's growable layer.</summary>
internal sealed class IncrtStep : StepWorkload
{
    public IncrtStep(long dModel, int heads, long headDim, long batch, long seq, int maxHeads = 256, ulong seed = 1, bool reserveHeads = false)
    {
        Layer = new GrowableMultiHeadAttention(new AttentionOptions(dModel, headDim, heads, Math.Max(maxHeads, heads), Device: BenchDevice.Current, Seed: seed,
            ReserveHeads: reserveHeads));
        Optimizer = optim.AdamW(Layer.parameters().ToArray(), lr: 1e-4);
        X = Input(batch, seq, dModel, seed);
    }

    public GrowableMultiHeadAttention Layer { get; }

    protected override Tensor Output(Tensor x) => Layer.forward(x);

    /// <summary>A step on <paramref name="x"/> (default <see cref="StepWorkload.X"/>) with the trainer's guard: a
    /// non-finite loss or gradient norm skips the update. Returns the loss (NaN when skipped).</summary>
    public double RunGuarded(Tensor? x = null)
    {
        using var scope = NewDisposeScope();
        Optimizer.zero_grad();
        var loss = Output(x ?? X).square().mean();
        double value = loss.item<float>();
        if (!double.IsFinite(value)) return double.NaN;
        loss.backward();
        double norm = nn.utils.clip_grad_norm_(Layer.parameters(), 1e30);
        if (!double.IsFinite(norm)) { Optimizer.zero_grad(); return double.NaN; }
        Optimizer.step();
        return value;
    }

    public override void Dispose()
    {
        base.Dispose();
        Layer.Dispose();
    }
}

/// <summary>TorchSharp's <c>nn.MultiheadAttention</c> (sequence-first): same width, heads and head size.</summary>
internal sealed class PeerStep : StepWorkload
{
    private readonly MultiheadAttention _mha;

    public PeerStep(long dModel, int heads, long batch, long seq, ulong seed = 1)
    {
        manual_seed((long)seed);
        _mha = nn.MultiheadAttention(dModel, heads);
        _mha.to(BenchDevice.Current);
        Optimizer = optim.AdamW(_mha.parameters().ToArray(), lr: 1e-4);
        X = Input(batch, seq, dModel, seed);
    }

    protected override Tensor Output(Tensor x)
    {
        var xt = x.transpose(0, 1);                                   // (T, B, E)
        return _mha.call(xt, xt, xt, null, false, null).Item1.transpose(0, 1);
    }

    public override void Dispose()
    {
        base.Dispose();
        _mha.Dispose();
    }
}

internal static class Flops
{
    /// <summary>Forward FLOPs of one attention layer call (multiply-add = 2): QKV projection, scores, weighted sum,
    /// output projection. Backward ≈ 2× forward, so a training step ≈ 3× this.</summary>
    public static double Forward(long b, long t, long d, long h, long dk)
    {
        double hk = h * dk;
        return 2.0 * b * t * d * 3 * hk        // x W_QKV
             + 2.0 * b * h * t * t * dk        // Q Kᵀ
             + 2.0 * b * h * t * t * dk        // softmax(·) V
             + 2.0 * b * t * hk * d;           // concat(heads) W_O
    }
}
