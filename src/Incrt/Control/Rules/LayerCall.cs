using Incrt.Attention;

namespace Incrt.Control;

/// <summary>
/// What a rule sees of one layer at one controller call: the step, the layer, the layer's input at the last training
/// forward, the step's loss and — when the controller was given a loss probe — the probe loss with any of the layer's
/// heads masked.
/// </summary>
public sealed class LayerCall
{
    private readonly Func<double>? _probe;

    internal LayerCall(long step, long call, int layerIndex, GrowableMultiHeadAttention layer, double? loss, Func<double>? probe,
        IReadOnlyCollection<long> protectedHeads, bool growthStopped = false, LayerInputRecorder? inputs = null)
    {
        Input = inputs?.Input;
        KeyPaddingMask = inputs?.KeyPaddingMask;
        GrowthStopped = growthStopped;
        Step = step;
        Call = call;
        LayerIndex = layerIndex;
        Layer = layer;
        Loss = loss;
        _probe = probe;
        ProtectedHeads = protectedHeads;
    }

    /// <summary>Optimizer step of the call.</summary>
    public long Step { get; }

    /// <summary>Controller call number (0-based).</summary>
    public long Call { get; }

    /// <summary>Index of the layer in the controller's list.</summary>
    public int LayerIndex { get; }

    /// <summary>The layer.</summary>
    public GrowableMultiHeadAttention Layer { get; }

    /// <summary>The layer's input (B, T, d_model) at its last forward before this call, detached; null before the first
    /// forward. Owned by the controller: read it, do not dispose it.</summary>
    public TorchSharp.torch.Tensor? Input { get; }

    /// <summary>The key-padding mask (B, T) of <see cref="Input"/> (true = padding), or null.</summary>
    public TorchSharp.torch.Tensor? KeyPaddingMask { get; }

    /// <summary>The step's training loss, when the caller passed one.</summary>
    public double? Loss { get; }

    /// <summary>Heads another rule is still judging (a growth rule's trial heads): prune rules must leave them alone.</summary>
    public IReadOnlyCollection<long> ProtectedHeads { get; }

    /// <summary>Whether the layer's growth rule has stopped (<see cref="IGrowthRule.Stopped"/>).</summary>
    public bool GrowthStopped { get; }

    /// <summary>Whether <see cref="ProbeLoss"/> is available (the controller has a <see cref="HeadController.LossProbe"/>).</summary>
    public bool CanProbe => _probe is not null;

    /// <summary>
    /// The loss on the probe batch with the heads of this layer at <paramref name="maskedHeads"/> masked
    /// (<see cref="GrowableMultiHeadAttention.MaskHeads"/>); empty = the model as it is. The same batch every time, so two
    /// probes of one call are a paired comparison.
    /// </summary>
    /// <exception cref="InvalidOperationException">No loss probe was given to the controller.</exception>
    public double ProbeLoss(IReadOnlyCollection<int> maskedHeads)
    {
        ArgumentNullException.ThrowIfNull(maskedHeads);
        if (_probe is null)
            throw new InvalidOperationException("This rule needs a loss probe: set HeadController.LossProbe (a function that returns the model's loss on a fixed batch).");
        if (maskedHeads.Count == 0) return _probe();
        using var mask = Layer.MaskHeads(maskedHeads);
        return _probe();
    }
}
