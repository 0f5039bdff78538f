using Incrt.Attention;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Incrt.Tests.Attention;

internal static class AttentionTestHelpers
{
    public static Dictionary<string, Parameter> Params(nn.Module module) =>
        module.named_parameters().ToDictionary(p => p.name, p => p.parameter);

    /// <summary>Copies TorchSharp's nn.MultiheadAttention weights into a Concat-mode growable layer with the same H.</summary>
    public static void CopyFrom(GrowableMultiHeadAttention layer, MultiheadAttention mha, int heads)
    {
        var src = Params(mha);
        var dst = Params(layer);
        long e = layer.DModel, dk = layer.HeadDim;
        using var _ = no_grad();
        // in_proj_weight (3E, E), q = x Wᵀ  →  ours (H, 3, E, d_k) with q = x W.
        dst["in_proj_weight"].copy_(src["in_proj_weight"].view(3, heads, dk, e).permute(1, 0, 3, 2));
        dst["in_proj_bias"].copy_(src["in_proj_bias"].view(3, heads, dk).permute(1, 0, 2));
        // out_proj.weight (E, H·d_k), y = concat Wᵀ  →  ours (H, d_k, E).
        dst["out_proj_weight"].copy_(src["out_proj.weight"].t().reshape(heads, dk, e));
        dst["out_proj_bias"].copy_(src["out_proj.bias"]);
    }

    /// <summary>Explicit per-head reference: softmax(q kᵀ/√d_k) v W_O summed over heads (or averaged), float64.</summary>
    public static Tensor LoopReference(Tensor x, Tensor? pad, Tensor inProj, Tensor? inBias, Tensor outProj, Tensor? outBias, bool mean)
    {
        long h = inProj.shape[0], dk = inProj.shape[3];
        Tensor? y = null;
        for (long i = 0; i < h; i++)
        {
            var q = x.matmul(inProj[i, 0]);
            var k = x.matmul(inProj[i, 1]);
            var v = x.matmul(inProj[i, 2]);
            if (inBias is not null) { q = q + inBias[i, 0]; k = k + inBias[i, 1]; v = v + inBias[i, 2]; }
            var scores = q.matmul(k.transpose(1, 2)) / Math.Sqrt(dk);           // (B, T, T)
            if (pad is not null) scores = scores.masked_fill(pad.unsqueeze(1), double.NegativeInfinity);
            var o = scores.softmax(-1).matmul(v).matmul(outProj[i]);
            y = y is null ? o : y + o;
        }
        if (mean) y = y! / h;
        if (outBias is not null) y = y! + outBias;
        return y!;
    }

    public static Tensor PaddingMask(long b, long t, int seed)
    {
        // Each sequence keeps at least one real position; later positions are padding.
        var rng = new Random(seed);
        var m = zeros(new[] { b, t }, ScalarType.Bool);
        for (long i = 0; i < b; i++)
        {
            long len = rng.Next(1, (int)t + 1);
            if (len < t) m[i, TensorIndex.Slice(len, t)] = tensor(true);
        }
        return m;
    }
}

internal static class TensorSame
{
    /// <summary>Same shape and every element equal (bit-identical for finite values).</summary>
    public static bool Same(this Tensor a, Tensor b) =>
        a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    /// <summary>Same shape and every element equal, NaN matching NaN (for tensors that were poisoned on purpose).</summary>
    public static bool SameOrBothNaN(this Tensor a, Tensor b) =>
        a.shape.SequenceEqual(b.shape) && (a.eq(b) | (a.isnan() & b.isnan())).all().item<bool>();
}
