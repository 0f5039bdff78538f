using TorchSharp;
using static TorchSharp.torch;

namespace Incrt.Attention;

/// <summary>Configuration of a <see cref="GrowableMultiHeadAttention"/> layer.</summary>
/// <param name="DModel">Model width d (input and output feature size). Must be positive.</param>
/// <param name="HeadDim">Per-head width d_k = d_v. Default 64 [ref-code].</param>
/// <param name="InitialHeads">Heads at construction. Default 1: INCRT starts from a single head [paper].</param>
/// <param name="MaxHeads">Upper bound on the head count; growth beyond it is refused. Default 256.</param>
/// <param name="Dropout">Dropout probability on the attention weights while training. Default 0.</param>
/// <param name="Aggregation">How head outputs are combined. Default <see cref="HeadAggregation.Concat"/>.</param>
/// <param name="Bias">Whether the Q/K/V and output projections carry biases. Default true.</param>
/// <param name="DType">Floating-point type of the parameters. Default float32.</param>
/// <param name="Device">Device of the parameters. Default CPU.</param>
/// <param name="Seed">Seed of the layer's own generator used to initialise heads (construction and growth).</param>
/// <param name="NewHeads">Where a grown head's random weights are drawn. Default <see cref="HeadDraw.Auto"/>: the CPU
/// generator for a CPU layer, on the device for a CUDA layer. The heads present at construction always come from
/// the CPU generator.</param>
/// <param name="ReserveHeads">Keep spare room behind the per-head parameters and their optimizer moments (about twice
/// the heads after a grow, at most MaxHeads), so consecutive grows write one head instead of copying all of them.
/// Default false. Values are identical either way; it trades memory (up to 2× the per-head tensors) for grow time on
/// the CPU, where a grow is a copy of every head. A prune still copies the heads it keeps.</param>
public sealed record AttentionOptions(
    long DModel,
    long HeadDim = 64,
    int InitialHeads = 1,
    int MaxHeads = 256,
    double Dropout = 0.0,
    HeadAggregation Aggregation = HeadAggregation.Concat,
    bool Bias = true,
    ScalarType DType = ScalarType.Float32,
    Device? Device = null,
    ulong Seed = 0,
    HeadDraw NewHeads = HeadDraw.Auto,
    bool ReserveHeads = false)
{
    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        if (DModel <= 0) throw new ArgumentOutOfRangeException(nameof(DModel), DModel, "DModel must be positive.");
        if (HeadDim <= 0) throw new ArgumentOutOfRangeException(nameof(HeadDim), HeadDim, "HeadDim must be positive.");
        if (MaxHeads < 1) throw new ArgumentOutOfRangeException(nameof(MaxHeads), MaxHeads, "MaxHeads must be at least 1.");
        if (InitialHeads < 1 || InitialHeads > MaxHeads)
            throw new ArgumentOutOfRangeException(nameof(InitialHeads), InitialHeads, $"InitialHeads must be in [1, MaxHeads = {MaxHeads}].");
        if (!(Dropout >= 0 && Dropout < 1)) throw new ArgumentOutOfRangeException(nameof(Dropout), Dropout, "Dropout must be in [0, 1).");
        if (DType is not (ScalarType.Float32 or ScalarType.Float64 or ScalarType.Float16 or ScalarType.BFloat16))
            throw new ArgumentException($"DType must be a floating-point type, got {DType}.", nameof(DType));
        if (!Enum.IsDefined(NewHeads)) throw new ArgumentOutOfRangeException(nameof(NewHeads), NewHeads, "NewHeads must be Auto, CpuGenerator or OnDevice.");
    }
}
