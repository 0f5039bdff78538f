using TorchSharp;
using static TorchSharp.torch;

namespace Incrt.Energy;

/// <summary>
/// Builds the token covariance C and the residual directional-energy operator
/// A_res = P⊥ · sym(C·M_a) · P⊥ (docs/algorithm.md §3).
/// </summary>
/// <remarks>
/// Why this operator: for a layer motor M_a (antisymmetric, the generator of the rotation the layer applies)
/// the quadratic form uᵀ sym(C M_a) u = uᵀ C M_a u measures how much token energy along u is being turned by the layer.
/// Because C is symmetric and M_a skew, sym(C M_a) = (C M_a − M_a C)/2 is a commutator: its trace is zero, so its
/// eigenvalues are real with both signs. Sandwiching with P⊥ = I − QQᵀ removes directions already captured by heads,
/// so what is left is the *residual* energy that no head explains yet. All results follow the covariance's dtype/device
/// and carry no autograd history.
/// </remarks>
public static class ResidualOperator
{
    /// <summary>
    /// Token covariance C = mean_b C_b with C_b = X_bᵀX_b / n_b over the n_b non-padding tokens of sequence b.
    /// </summary>
    /// <param name="x">Token representations, shape (B, T, d) or a single sequence (T, d); floating dtype.</param>
    /// <param name="keyPaddingMask">Optional bool mask, shape (B, T) (or (T) for a single sequence); true marks padding.
    /// Sequences that are entirely padding are left out of the batch mean.</param>
    /// <returns>C, shape (d, d), dtype/device of <paramref name="x"/>. The caller owns it.</returns>
    /// <exception cref="ArgumentException">Wrong rank/shape/dtype, or every token is padding.</exception>
    /// <remarks>Non-finite values in <paramref name="x"/> are not checked here (that would cost a device sync);
    /// they propagate into C and are caught by <see cref="DirectionalEnergyEstimator.Observe(Tensor, Tensor, CapturedBasis?)"/>.</remarks>
    public static Tensor Covariance(Tensor x, Tensor? keyPaddingMask = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.dim() != 2 && x.dim() != 3)
            throw new ArgumentException($"x must have shape (B, T, d) or (T, d); got ({string.Join(", ", x.shape)}).", nameof(x));
        EnergyGuards.RequireFloating(x, nameof(x));
        bool single = x.dim() == 2;
        long b = single ? 1 : x.shape[0], t = x.shape[^2], d = x.shape[^1];
        if (t < 1 || d < 1)
            throw new ArgumentException($"x must have at least one token and one feature; got ({string.Join(", ", x.shape)}).", nameof(x));
        if (keyPaddingMask is not null)
        {
            bool shapeOk = single
                ? (keyPaddingMask.dim() == 1 && keyPaddingMask.shape[0] == t) || (keyPaddingMask.dim() == 2 && keyPaddingMask.shape[0] == 1 && keyPaddingMask.shape[1] == t)
                : keyPaddingMask.dim() == 2 && keyPaddingMask.shape[0] == b && keyPaddingMask.shape[1] == t;
            if (!shapeOk)
                throw new ArgumentException($"keyPaddingMask must have shape ({(single ? "" : b + ", ")}{t}); got ({string.Join(", ", keyPaddingMask.shape)}).", nameof(keyPaddingMask));
            if (keyPaddingMask.dtype != ScalarType.Bool)
                throw new ArgumentException($"keyPaddingMask must be a bool tensor (true = padding); got {keyPaddingMask.dtype}.", nameof(keyPaddingMask));
        }

        using var scope = NewDisposeScope();
        var xs = x.detach().reshape(b, t, d);
        if (keyPaddingMask is null)
        {
            // Every sequence has n_b = T: C = mean_b X_bᵀX_b / T = XᵀX / (B·T) over all tokens, one GEMM.
            var flat = xs.reshape(b * t, d);
            var cAll = flat.t().matmul(flat) / (double)(b * t);
            return cAll.MoveToOuterDisposeScope();
        }
        var keep = keyPaddingMask.detach().reshape(b, t).to(x.device).logical_not().to(x.dtype); // (B, T), 1 = real token
        var xm = xs * keep.unsqueeze(-1);                                                         // padding rows zeroed
        var perSeq = xm.transpose(1, 2).matmul(xm);                                               // (B, d, d) = X_bᵀX_b
        var n = keep.sum(1);                                                                      // (B) n_b
        var valid = (n > 0).to(x.dtype);
        // One host sync: a batch made only of padding has no covariance.
        double sequences = valid.sum().to(ScalarType.Float64).item<double>();
        if (sequences == 0)
            throw new ArgumentException("keyPaddingMask marks every token as padding: the covariance is undefined.", nameof(keyPaddingMask));
        var weights = valid / n.clamp_min(1.0);                                                   // 1/n_b, 0 for empty sequences
        var c = (perSeq * weights.reshape(b, 1, 1)).sum(dim: 0) / sequences;
        return c.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// A_res = P⊥ · sym(C·M_a) · P⊥ with sym(B) = (B + Bᵀ)/2 and P⊥ = I − QQᵀ (docs/algorithm.md §3).
    /// </summary>
    /// <param name="covariance">C, shape (d, d), symmetric; its dtype/device define the result's.</param>
    /// <param name="motor">Layer motor M_a, shape (d, d), antisymmetric (not checked; see <see cref="AntisymmetryDefect"/>); detached here.</param>
    /// <param name="basis">Captured basis Q (d×k); null means k = 0.</param>
    /// <returns>A_res, shape (d, d), exactly symmetric. The caller owns it.</returns>
    /// <exception cref="ArgumentException">A shape or dimension mismatch.</exception>
    public static Tensor Build(Tensor covariance, Tensor motor, CapturedBasis? basis = null)
    {
        EnergyGuards.RequireSquare(covariance, nameof(covariance));
        long d = covariance.shape[0];
        EnergyGuards.RequireSquare(motor, nameof(motor), d);
        if (basis is not null && basis.Dimension != d)
            throw new ArgumentException($"basis has dimension {basis.Dimension} but the covariance is ({d}, {d}).", nameof(basis));

        using var scope = NewDisposeScope();
        var c = covariance.detach();
        var m = motor.detach().to(c.dtype, c.device);
        var s = c.matmul(m);
        return ProjectSymmetric((s + s.t()) * 0.5, basis).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// P⊥ · A · P⊥ for a symmetric (d, d) operator A, P⊥ = I − QQᵀ (A itself when the basis is null or empty), made
    /// exactly symmetric. <c>Project(Build(C, M), Q)</c> equals <c>Build(C, M, Q)</c> bit for bit, so a caller that
    /// needs both the unprojected and the residual operator builds sym(C·M) once.
    /// </summary>
    /// <param name="symmetricOperator">A, shape (d, d).</param>
    /// <param name="basis">Captured basis Q (null = empty).</param>
    public static Tensor Project(Tensor symmetricOperator, CapturedBasis? basis)
    {
        EnergyGuards.RequireSquare(symmetricOperator, nameof(symmetricOperator));
        if (basis is not null && basis.Dimension != symmetricOperator.shape[0])
            throw new ArgumentException($"basis has dimension {basis.Dimension} but the operator is ({symmetricOperator.shape[0]}, {symmetricOperator.shape[0]}).", nameof(basis));
        using var scope = NewDisposeScope();
        return ProjectSymmetric(symmetricOperator.detach(), basis).MoveToOuterDisposeScope();
    }

    private static Tensor ProjectSymmetric(Tensor a, CapturedBasis? basis)
    {
        if (basis is not null && basis.Count > 0)
        {
            var q = basis.Matrix.to(a.dtype, a.device);
            // P⊥ A P⊥ without forming P⊥: A − Q(QᵀA) then the same from the right.
            a = a - q.matmul(q.t().matmul(a));
            a = a - a.matmul(q).matmul(q.t());
        }
        a = (a + a.t()) * 0.5; // remove round-off asymmetry so eigh sees an exactly symmetric matrix
        return a.contiguous();
    }

    /// <summary>
    /// ‖A₊‖_F = sqrt(Σ max(λ_i, 0)²), the Frobenius norm of the positive-eigenvalue part of a symmetric operator: the
    /// reference energy of <c>ThresholdMode.RelativePositive</c> (docs/algorithm.md §4). Growth only ever captures the
    /// positive end (u+), so this measures the energy the growth rule can act on, without the negative end that
    /// training may inflate. One eigvalsh and one host sync.
    /// </summary>
    /// <param name="symmetricOperator">A, shape (d, d), symmetric.</param>
    /// <returns>‖A₊‖_F, or NaN when A has a non-finite entry (eigvalsh is not called on it).</returns>
    public static double PositivePartNorm(Tensor symmetricOperator)
    {
        EnergyGuards.RequireSquare(symmetricOperator, nameof(symmetricOperator));
        using var scope = NewDisposeScope();
        var a = symmetricOperator.detach().to(ScalarType.Float64);
        // LAPACK may fail to converge (and throw) on NaN/Inf input; the caller treats NaN as a skipped call instead.
        if (!a.isfinite().all().item<bool>()) return double.NaN;
        var positive = linalg.eigvalsh((a + a.t()) * 0.5).clamp_min(0.0);
        return positive.square().sum().sqrt().item<double>();
    }

    /// <summary>
    /// Relative antisymmetry defect ‖M + Mᵀ‖_F / max(‖M‖_F, tiny) of a motor (0 for an exactly skew matrix).
    /// Optional check for callers; costs one host sync.
    /// </summary>
    public static double AntisymmetryDefect(Tensor motor)
    {
        EnergyGuards.RequireSquare(motor, nameof(motor));
        using var scope = NewDisposeScope();
        var m = motor.detach().to(ScalarType.Float64);
        var both = torch.stack(new[] { (m + m.t()).norm(), m.norm() }).cpu().data<double>().ToArray();
        return both[0] / Math.Max(both[1], double.Epsilon);
    }
}
