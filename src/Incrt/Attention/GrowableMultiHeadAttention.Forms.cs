using TorchSharp;
using static TorchSharp.torch;

namespace Incrt.Attention;

/// <summary>Read-outs of the query/key weights the energy estimator and the prune statistics use (docs/algorithm.md §2).</summary>
public sealed partial class GrowableMultiHeadAttention
{
    /// <summary>W_Q,h and W_K,h as (H, d, d_k) views of the parameters, detached (internal: the head-count
    /// predictor's growth replay starts from them).</summary>
    internal (Tensor Wq, Tensor Wk) QueryKeyWeights() => (in_proj_weight.detach().select(1, 0), in_proj_weight.detach().select(1, 1));

    /// <summary>W_Q,h and W_K,h, detached, in <paramref name="like"/>'s dtype and device.</summary>
    private (Tensor Wq, Tensor Wk) QueryKeyWeightsLike(Tensor like)
    {
        var (wq, wk) = QueryKeyWeights();
        return (wq.to(like.dtype, like.device), wk.to(like.dtype, like.device));
    }

    /// <summary>Per-head bilinear forms M_h = W_Q,h W_K,hᵀ, (H, d, d), detached.</summary>
    public Tensor BilinearForms() => BilinearForms(null);

    /// <summary>M_h of the heads at <paramref name="heads"/> (int64 positions on the layer's device; null = all), in that
    /// order, each computed exactly as in the full batch.</summary>
    internal Tensor BilinearForms(Tensor? heads)
    {
        using var scope = NewDisposeScope();
        var (wq, wk) = QueryKeyWeights();
        if (heads is not null) (wq, wk) = (wq.index_select(0, heads), wk.index_select(0, heads));
        return wq.matmul(wk.transpose(1, 2)).MoveToOuterDisposeScope();
    }

    /// <summary>Per-head antisymmetric parts M_a,h = (M_h − M_hᵀ)/2, (H, d, d), detached.</summary>
    public Tensor AntisymmetricForms() => AntisymmetricForms(null);

    /// <summary>M_a,h of the heads at <paramref name="heads"/> (int64 positions on the layer's device; null = all), in
    /// that order: (count, d, d), detached, each head's form computed exactly as in the full batch.</summary>
    internal Tensor AntisymmetricForms(Tensor? heads)
    {
        using var scope = NewDisposeScope();
        var m = BilinearForms(heads);
        return ((m - m.transpose(1, 2)) / 2).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The layer motor Σ_h M_a,h, (d, d), detached: the antisymmetric part of W_Q,all W_K,allᵀ with the heads
    /// concatenated along the columns, one d×(H·d_k) matmul instead of H d×d products.
    /// </summary>
    public Tensor Motor()
    {
        using var scope = NewDisposeScope();
        var (wq, wk) = QueryKeyWeights();
        long d = DModel, hk = HeadCount * HeadDim;
        var m = wq.permute(1, 0, 2).reshape(d, hk).matmul(wk.permute(1, 0, 2).reshape(d, hk).t());
        return ((m - m.t()) / 2).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// ‖C M_a,h‖_F for every head, (H), detached, in <paramref name="covariance"/>'s dtype and device, without forming
    /// any d×d per-head matrix: with A_h = C [W_Q,h, W_K,h] and B_h = [W_K,h, −W_Q,h] (d × 2d_k),
    /// C M_a,h = A_h B_hᵀ / 2 and ‖A_h B_hᵀ‖²_F = Σ (A_hᵀA_h) ⊙ (B_hᵀB_h). Cost O(d²·H·d_k) instead of O(H·d³)
    /// (heads with 4·d_k ≥ d use the direct product, which is cheaper for them).
    /// </summary>
    /// <param name="covariance">C, shape (d, d), symmetric.</param>
    public Tensor AntisymmetricCovarianceNorms(Tensor covariance)
    {
        ArgumentNullException.ThrowIfNull(covariance);
        using var scope = NewDisposeScope();
        var (wq, wk) = QueryKeyWeightsLike(covariance);
        if (4 * HeadDim >= DModel)
        {
            // Wide heads: the rank-2d_k route costs more than forming M_a,h = (W_Q W_Kᵀ − W_K W_Qᵀ)/2 and C M_a,h.
            var m = wq.matmul(wk.transpose(1, 2));
            var direct = covariance.detach().unsqueeze(0).matmul((m - m.transpose(1, 2)) / 2).flatten(1).norm(1);
            return direct.MoveToOuterDisposeScope();
        }
        var a = covariance.detach().matmul(cat(new[] { wq, wk }, 2));         // (H, d, 2d_k)
        var b = cat(new[] { wk, -wq }, 2);                                      // (H, d, 2d_k)
        var sq = (a.transpose(1, 2).matmul(a) * b.transpose(1, 2).matmul(b)).sum(new long[] { 1, 2 });
        return (sq.clamp_min(0).sqrt() / 2).MoveToOuterDisposeScope();
    }

    /// <summary>M_a,h u for every head, (H, d), detached, in <paramref name="u"/>'s dtype and device:
    /// (W_Q,h (W_K,hᵀu) − W_K,h (W_Q,hᵀu)) / 2, without forming any d×d per-head matrix.</summary>
    /// <param name="u">Vector of shape (d).</param>
    public Tensor AntisymmetricFormsTimes(Tensor u)
    {
        ArgumentNullException.ThrowIfNull(u);
        using var scope = NewDisposeScope();
        var (wq, wk) = QueryKeyWeightsLike(u);
        var v = u.detach().reshape(1, 1, DModel);
        var qu = v.matmul(wq);                                                 // (H, 1, d_k) = (W_Qᵀu)ᵀ
        var ku = v.matmul(wk);
        var r = ku.matmul(wq.transpose(1, 2)) - qu.matmul(wk.transpose(1, 2)); // (H, 1, d)
        return (r.squeeze(1) / 2).MoveToOuterDisposeScope();
    }

    /// <summary>Frobenius norm of each head's parameters (W_Q, W_K, W_V, W_O and in-projection biases), (H), detached.</summary>
    public Tensor HeadNorms()
    {
        using var scope = NewDisposeScope();
        var sq = in_proj_weight.detach().flatten(1).square().sum(1) + out_proj_weight.detach().flatten(1).square().sum(1);
        if (in_proj_bias is not null) sq = sq + in_proj_bias.detach().flatten(1).square().sum(1);
        return sq.sqrt().MoveToOuterDisposeScope();
    }
}
