using Incrt.Attention;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Incrt.Benchmarks;

/// <summary>A training step (forward + backward + AdamW step) of INCRT's layer or of TorchSharp's fixed peer.</summary>
internal sealed class IncrtStep : IDisposable
{
    public IncrtStep(long dModel, int heads, long headDim, long batch, long seq, int maxHeads = 256, ulong seed = 1)
    {
        Layer = new GrowableMultiHeadAttention(new AttentionOptions(dModel, headDim, heads, Math.Max(maxHeads, heads), Device: BenchDevice.Current, Seed: seed));
        Optimizer = optim.AdamW(Layer.parameters().ToArray(), lr: 1e-4);
        using var g = new Generator(seed + 17);
        X = randn(new[] { batch, seq, dModel }, generator: g).to(BenchDevice.Current).DetachFromDisposeScope();
    }

    public GrowableMultiHeadAttention Layer { get; }
    public optim.Optimizer Optimizer { get; }
    public Tensor X { get; }

    public void Run()
    {
        using var scope = NewDisposeScope();
        Optimizer.zero_grad();
        var loss = Layer.forward(X).square().mean();
        loss.backward();
        Optimizer.step();
    }

    /// <summary>The parts of <see cref="Run"/> alone (the overhead case): the forward under no_grad, forward + backward
    /// without the optimizer, the optimizer step alone (on the gradients the last backward left).</summary>
    public void Forward()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Layer.forward(X);
    }

    /// <inheritdoc cref="Forward"/>
    public void ForwardBackward()
    {
        using var scope = NewDisposeScope();
        Optimizer.zero_grad();
        Layer.forward(X).square().mean().backward();
    }

    /// <inheritdoc cref="Forward"/>
    public void OptimizerStep()
    {
        using var scope = NewDisposeScope();
        Optimizer.step();
    }

    /// <summary>A step on <paramref name="x"/> (default <see cref="X"/>) with the trainer's guard: a non-finite loss
    /// or gradient norm skips the update. Returns the loss (NaN when skipped).</summary>
    public double RunGuarded(Tensor? x = null)
    {
        using var scope = NewDisposeScope();
        Optimizer.zero_grad();
        var loss = Layer.forward(x ?? X).square().mean();
        double value = loss.item<float>();
        if (!double.IsFinite(value)) return double.NaN;
        loss.backward();
        double norm = nn.utils.clip_grad_norm_(Layer.parameters(), 1e30);
        if (!double.IsFinite(norm)) { Optimizer.zero_grad(); return double.NaN; }
        Optimizer.step();
        return value;
    }

    public void Dispose()
    {
        Optimizer.Dispose();
        Layer.Dispose();
        X.Dispose();
    }
}

/// <summary>TorchSharp's <c>nn.MultiheadAttention</c> (sequence-first): same width, heads and head size.</summary>
internal sealed class PeerStep : IDisposable
{
    private readonly MultiheadAttention _mha;

    public PeerStep(long dModel, int heads, long batch, long seq, ulong seed = 1)
    {
        manual_seed((long)seed);
        _mha = nn.MultiheadAttention(dModel, heads);
        _mha.to(BenchDevice.Current);
        Optimizer = optim.AdamW(_mha.parameters().ToArray(), lr: 1e-4);
        using var g = new Generator(seed + 17);
        X = randn(new[] { batch, seq, dModel }, generator: g).to(BenchDevice.Current).DetachFromDisposeScope();
    }

    public optim.Optimizer Optimizer { get; }
    public Tensor X { get; }

    public void Run()
    {
        using var scope = NewDisposeScope();
        Optimizer.zero_grad();
        var loss = Call().square().mean();
        loss.backward();
        Optimizer.step();
    }

    /// <summary>The parts of <see cref="Run"/> alone, as <see cref="IncrtStep.Forward"/>.</summary>
    public void Forward()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Call();
    }

    /// <inheritdoc cref="Forward"/>
    public void ForwardBackward()
    {
        using var scope = NewDisposeScope();
        Optimizer.zero_grad();
        Call().square().mean().backward();
    }

    /// <inheritdoc cref="Forward"/>
    public void OptimizerStep()
    {
        using var scope = NewDisposeScope();
        Optimizer.step();
    }

    private Tensor Call()
    {
        var xt = X.transpose(0, 1);                                   // (T, B, E)
        return _mha.call(xt, xt, xt, null, false, null).Item1.transpose(0, 1);
    }

    public void Dispose()
    {
        Optimizer.Dispose();
        _mha.Dispose();
        X.Dispose();
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
