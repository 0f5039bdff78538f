using Incrt.Energy;
using TorchSharp;
using static TorchSharp.torch;

namespace Incrt.Control;

/// <summary>What the residual operator of a layer would look like without each of its heads (docs/algorithm.md §4).</summary>
/// <param name="LambdaMax">λmax of P⊥_h · sym(C (M_a − M_a,h)) · P⊥_h for every head h, (H), on the host.</param>
/// <param name="Energy">‖sym(C (M_a − M_a,h))‖_F for every head, (H), or the norm of its positive-eigenvalue part when
/// asked for: the reference energy of a relative θ_w after the prune (<see cref="ThresholdReference"/>).</param>
internal sealed record LeaveOneOutReading(double[] LambdaMax, double[] Energy);

/// <summary>
/// Leave-one-out sufficiency: for every head, the residual directional energy the layer would have if that head were
/// pruned — its antisymmetric form M_a,h out of the motor and its captured direction (Q column) out of the basis, so
/// the direction it covered counts as uncaptured again. This is the same ablation as <c>HomeostasisCheck</c>'s
/// necessary-head count, batched over the heads (one batched eigvalsh instead of H separate ones).
/// </summary>
internal static class LeaveOneOutEnergy
{
    /// <summary>Computes the reading for every head.</summary>
    /// <param name="covariance">C, (d, d), symmetric; its dtype and device are used throughout.</param>
    /// <param name="fullOperator">sym(C M_a), (d, d), of the whole layer (unprojected).</param>
    /// <param name="forms">Per-head antisymmetric forms M_a,h, (H, d, d).</param>
    /// <param name="basis">Captured basis Q (d×k).</param>
    /// <param name="columnOfHead">For every head, the index of the Q column it owns, or −1.</param>
    /// <param name="positivePart">Report ‖A₊‖_F of each reduced operator (<see cref="ThresholdMode.RelativePositive"/>)
    /// instead of ‖A‖_F; costs a second batched eigvalsh.</param>
    /// <exception cref="ArgumentException">Shapes disagree.</exception>
    public static LeaveOneOutReading Compute(Tensor covariance, Tensor fullOperator, Tensor forms, CapturedBasis basis,
        IReadOnlyList<int> columnOfHead, bool positivePart = false)
    {
        ArgumentNullException.ThrowIfNull(covariance);
        ArgumentNullException.ThrowIfNull(fullOperator);
        ArgumentNullException.ThrowIfNull(forms);
        ArgumentNullException.ThrowIfNull(basis);
        ArgumentNullException.ThrowIfNull(columnOfHead);
        EnergyGuards.RequireSquare(covariance, nameof(covariance));
        long d = covariance.shape[0];
        EnergyGuards.RequireSquare(fullOperator, nameof(fullOperator), d);
        if (forms.dim() != 3 || forms.shape[1] != d || forms.shape[2] != d)
            throw new ArgumentException($"forms must have shape (H, {d}, {d}); got ({string.Join(", ", forms.shape)}).", nameof(forms));
        long heads = forms.shape[0];
        if (columnOfHead.Count != heads)
            throw new ArgumentException($"columnOfHead has {columnOfHead.Count} entries for {heads} heads.", nameof(columnOfHead));
        if (basis.Dimension != d)
            throw new ArgumentException($"basis has dimension {basis.Dimension} but the covariance is ({d}, {d}).", nameof(basis));
        if (heads == 0) return new LeaveOneOutReading(Array.Empty<double>(), Array.Empty<double>());

        using var scope = NewDisposeScope();
        var c = covariance.detach();
        var cm = c.matmul(forms.detach().to(c.dtype, c.device));                       // (H, d, d) C M_a,h
        // sym is linear, so sym(C (M_a − M_a,h)) = sym(C M_a) − sym(C M_a,h): no per-head motor is rebuilt.
        var reduced = fullOperator.detach().to(c.dtype, c.device).unsqueeze(0) - (cm + cm.transpose(1, 2)) * 0.5;
        var energy = positivePart ? PositivePartNorms(reduced) : reduced.flatten(1).norm(1);

        // P⊥_h = I − Q_h Q_hᵀ with h's column dropped = P⊥ + q_j q_jᵀ (columns are orthonormal).
        var p = eye(d, dtype: c.dtype, device: c.device);
        var returned = ReturnedColumns(basis, columnOfHead, heads, c);
        if (basis.Count > 0)
        {
            var q = basis.Matrix.to(c.dtype, c.device);
            p = p - q.matmul(q.t());
        }
        var projectors = p.unsqueeze(0) + returned.unsqueeze(2).matmul(returned.unsqueeze(1)); // (H, d, d)
        var a = projectors.matmul(reduced).matmul(projectors);
        a = (a + a.transpose(1, 2)) * 0.5;                                             // exactly symmetric for eigh
        var lambda = linalg.eigvalsh(a).amax(new long[] { 1 });
        var both = stack(new[] { lambda, energy }).to(ScalarType.Float64).cpu();
        var lambdaHost = both[0].data<double>().ToArray();
        var energyHost = both[1].data<double>().ToArray();
        return new LeaveOneOutReading(lambdaHost, energyHost);
    }

    /// <summary>Row h: the basis column q_j head h owns (it returns to the complement when h is left out), or 0; (H, d) in
    /// <paramref name="like"/>'s dtype and device.</summary>
    /// <exception cref="ArgumentException">A head owns a column the basis does not have.</exception>
    internal static Tensor ReturnedColumns(CapturedBasis basis, IReadOnlyList<int> columnOfHead, long heads, Tensor like)
    {
        var returned = zeros(new[] { heads, basis.Dimension }, dtype: like.dtype, device: like.device);
        if (basis.Count == 0) return returned;
        var q = basis.Matrix.to(like.dtype, like.device);
        for (int h = 0; h < heads; h++)
        {
            int j = columnOfHead[h];
            if (j >= basis.Count) throw new ArgumentException($"Head {h} owns column {j}, but Q has {basis.Count} columns.", nameof(columnOfHead));
            if (j >= 0) returned[h] = q.select(1, j);
        }
        return returned;
    }

    /// <summary>‖A₊,h‖_F of a batch (H, d, d) of symmetric operators. Like the λmax above it expects finite input: the
    /// controller computes leave-one-out statistics only after the layer's own reading was finite.</summary>
    private static Tensor PositivePartNorms(Tensor operators) =>
        linalg.eigvalsh(operators).clamp_min(0.0).square().sum(dim: 1).sqrt();
}
