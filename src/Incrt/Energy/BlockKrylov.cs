using TorchSharp;
using static TorchSharp.torch;

namespace Incrt.Energy;

/// <summary>
/// Extreme eigenpairs of symmetric operators without a full decomposition: Rayleigh–Ritz (an eigh of a small k×k
/// projection) on the block Krylov space span{V, AV, …, A^m V} of a start block V (d×p), k = p(m+1). Works on a batch of
/// operators (…, d, d) with start blocks (…, d, p).
/// </summary>
/// <remarks>
/// Why Krylov and not plain subspace iteration: the energy gate needs both ends of a spectrum with both signs;
/// power-type iteration finds only the largest |λ| and converges with the ratio λ2/λ1, whereas a Krylov space of depth
/// m holds every polynomial of degree m in A, so both ends converge at once with Chebyshev speed. The space is spanned
/// by the Chebyshev basis T_j(A/s)V (s ≥ about ‖A‖₂) rather than the powers A^j V: the same space, but a
/// well-conditioned basis, so one QR orthonormalises it (about 2m + 10 tensor operations per round instead of a
/// Gram–Schmidt pass per step). The caller checks the Ritz residuals ‖A y − θ y‖ (for a symmetric A some eigenvalue lies
/// within ‖r‖ of θ) and falls back to eigh when they stay large.
/// </remarks>
internal static class BlockKrylov
{
    /// <summary>Ritz values (ascending, (…, k)), Ritz vectors ((…, d, k)), residual norms ((…, k)) and the basis'
    /// orthogonality defect max|QᵀQ − I| ((…), to be checked by the caller) of <paramref name="a"/> on the block Krylov
    /// space of <paramref name="start"/> with <paramref name="steps"/> multiplications. <paramref name="scale"/> is an
    /// estimate of ‖A‖₂ (a 10% error costs little). The caller owns the tensors (allocated in its dispose scope).</summary>
    public static (Tensor Values, Tensor Vectors, Tensor Residuals, Tensor Defect) RayleighRitz(Tensor a, Tensor start, int steps, double scale) =>
        RayleighRitz(a, start, steps, tensor(scale, a.dtype, a.device));

    /// <summary>As above with one scale per operator of the batch, shape (…, 1, 1) (or a scalar tensor).</summary>
    public static (Tensor Values, Tensor Vectors, Tensor Residuals, Tensor Defect) RayleighRitz(Tensor a, Tensor start, int steps, Tensor scale)
    {
        var (v, _) = linalg.qr(start);
        var columns = new List<Tensor> { v };
        Tensor previous = v, current = a.matmul(v) / scale;
        columns.Add(current);
        for (int j = 2; j <= steps; j++)
        {
            var next = a.matmul(current) * 2.0 / scale - previous;   // T_{j} = 2 B T_{j−1} − T_{j−2}, B = A/s
            columns.Add(next);
            previous = current;
            current = next;
        }
        var (q, _) = linalg.qr(cat(columns, -1));                       // (…, d, k), orthonormal
        var aq = a.matmul(q);
        var h = q.transpose(-2, -1).matmul(aq);
        h = (h + h.transpose(-2, -1)) * 0.5;
        var (theta, s) = linalg.eigh(h);
        var y = q.matmul(s);
        var residuals = (aq.matmul(s) - y * theta.unsqueeze(-2)).square().sum(dim: -2).sqrt();
        var gram = q.transpose(-2, -1).matmul(q);
        var defect = (gram - eye(gram.shape[^1], dtype: gram.dtype, device: gram.device)).abs().amax(new long[] { -2, -1 });
        return (theta, y, residuals, defect);
    }
}
