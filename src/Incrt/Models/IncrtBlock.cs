using Incrt.Attention;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Incrt.Models;

/// <summary>
/// One block: post-norm X ← LN(X + Attn(X)), then optionally X ← LN(X + FFN(X)) (docs/algorithm.md §6); or, with
/// <c>preNorm</c>, X ← X + Attn(LN(X)), then optionally X ← X + FFN(LN(X)).
/// </summary>
public sealed class IncrtBlock : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006
    private readonly GrowableMultiHeadAttention attn;
    private readonly LayerNorm norm1;
    private readonly Sequential? ffn;
    private readonly LayerNorm? norm2;
#pragma warning restore IDE1006

    /// <summary>Creates the block.</summary>
    public IncrtBlock(AttentionOptions attention, long feedForward, double dropout, string name = "block", bool preNorm = false) : base(name)
    {
        PreNorm = preNorm;
        attn = new GrowableMultiHeadAttention(attention);
        var device = attention.Device ?? CPU;
        norm1 = nn.LayerNorm(attention.DModel, device: device, dtype: attention.DType);
        if (feedForward > 0)
        {
            ffn = nn.Sequential(
                ("fc1", nn.Linear(attention.DModel, feedForward, device: device, dtype: attention.DType)),
                ("act", nn.GELU()),
                ("drop", nn.Dropout(dropout)),
                ("fc2", nn.Linear(feedForward, attention.DModel, device: device, dtype: attention.DType)));
            norm2 = nn.LayerNorm(attention.DModel, device: device, dtype: attention.DType);
        }
        RegisterComponents();
    }

    /// <summary>True for the pre-norm layout X ← X + Attn(LN(X)).</summary>
    public bool PreNorm { get; }

    /// <summary>The block's growable attention layer.</summary>
    public GrowableMultiHeadAttention Attention => attn;

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => forward(x, null);

    /// <summary>x: (B, T, d); keyPaddingMask: (B, T) bool, true = padding.</summary>
    public Tensor forward(Tensor x, Tensor? keyPaddingMask)
    {
        if (PreNorm)
        {
            x = x + attn.forward(norm1.call(x), keyPaddingMask);
            return ffn is null ? x : x + ffn.call(norm2!.call(x));
        }
        x = norm1.call(x + attn.forward(x, keyPaddingMask));
        if (ffn is not null) x = norm2!.call(x + ffn.call(x));
        return x;
    }
}
