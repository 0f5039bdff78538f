using TorchSharp;
using static TorchSharp.torch;

namespace Incrt.Energy;

/// <summary>
/// Online tracker of the two extreme eigenvectors of a symmetric operator A (docs/algorithm.md §3):
/// u+ (largest eigenvalue) by an Oja rule and u− (smallest eigenvalue) by an MCA EXIN rule, coupled through
/// c = u+ᵀA u− and the gap weight γ*.
/// </summary>
/// <remarks>
/// <para>One update, for the current A:</para>
/// <para>Oja (dominant): R = u+ᵀAu+, c = u+ᵀAu−; u+ ← normalise(u+ + η+[(Au+ − R u+) − (1−γ*) c u−]).
/// The bracket is the Rayleigh-quotient gradient (ascent) minus a term that pushes u+ away from what u− already explains.</para>
/// <para>MCA EXIN (minor): ν = u−ᵀu−, y = u−ᵀAu−; u− ← u− − (η−/ν)(Au− − (y/ν)u−) + η− γ*(1−γ*) c u+, then normalise,
/// remove the component along the new u+, normalise. This is Rayleigh-quotient descent scaled by 1/‖u−‖²
/// (EXIN's averaged form: E[y x] = A w, E[y²] = wᵀAw for data samples x).
/// Note: a literal reading "(η− y/ν)(Au− − (y/ν)u−)", which multiplies the step by the Rayleigh quotient y/ν, would turn
/// descent into ascent whenever λ_min &lt; 0 — always the case for A_res (trace 0) — so it is deliberately not used.</para>
/// <para>Step sizes: defaults η+ = 1/(10d), η− = η+/2. Convergence needs η·‖A‖₂ well below 1 (the linearised update multiplies
/// error components by 1 ± η(λ_i − λ_1)); the contraction per update is ≈ 1 − η·Δ. When A's scale is large (e.g. unnormalised
/// activations) either scale η down as ~0.1/‖A‖ or expect divergence that the finite-guard below will catch; when A's
/// scale is small, many iterations are needed (≈ ln(1/ε)/(η Δ)).</para>
/// <para>Non-finite guard: an update that would produce NaN/±Inf (non-finite A or γ*, collapse of u− onto u+) leaves both
/// vectors unchanged; the check runs on the device (no host sync).</para>
/// <para>The vectors follow the dtype/device of the last operator passed to <see cref="Step"/>. Owns its tensors; dispose it.</para>
/// </remarks>
public sealed class OjaMcaTracker : IDisposable
{
    private Tensor _uPlus;
    private Tensor _uMinus;
    private bool _disposed;

    /// <summary>Creates a tracker with random unit starting vectors (u− ⟂ u+) drawn on the CPU in float64 from <paramref name="seed"/>.</summary>
    /// <param name="dimension">d ≥ 2 (u− must fit next to u+).</param>
    /// <param name="etaPlus">η+; null → 1/(10d).</param>
    /// <param name="etaMinus">η−; null → η+/2.</param>
    /// <param name="seed">Seed of the starting vectors.</param>
    public OjaMcaTracker(int dimension, double? etaPlus = null, double? etaMinus = null, ulong seed = 0)
    {
        if (dimension < 2) throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "dimension must be ≥ 2.");
        Dimension = dimension;
        EtaPlus = etaPlus ?? DefaultEtaPlus(dimension);
        if (!(double.IsFinite(EtaPlus) && EtaPlus > 0)) throw new ArgumentOutOfRangeException(nameof(etaPlus), etaPlus, "etaPlus must be finite and > 0.");
        EtaMinus = etaMinus ?? EtaPlus / 2;
        if (!(double.IsFinite(EtaMinus) && EtaMinus > 0)) throw new ArgumentOutOfRangeException(nameof(etaMinus), etaMinus, "etaMinus must be finite and > 0.");
        using var basis = new CapturedBasis(dimension, ScalarType.Float64);
        using var generator = new Generator(seed);
        (_uPlus, _uMinus) = DrawPair(basis, generator);
    }

    /// <summary>Default η+ = 1/(10d).</summary>
    public static double DefaultEtaPlus(int dimension) => 1.0 / (10.0 * dimension);

    /// <summary>d.</summary>
    public int Dimension { get; }

    /// <summary>η+, the Oja step.</summary>
    public double EtaPlus { get; }

    /// <summary>η−, the MCA step.</summary>
    public double EtaMinus { get; }

    /// <summary>Current dominant direction u+ (unit, shape (d)). Owned by the tracker: do not dispose; it is replaced on update.</summary>
    public Tensor UPlus => ThrowIfDisposed()._uPlus;

    /// <summary>Current minor direction u− (unit, shape (d), ⟂ u+). Owned by the tracker.</summary>
    public Tensor UMinus => ThrowIfDisposed()._uMinus;

    /// <summary>Runs <paramref name="iterations"/> coupled Oja/MCA updates against operator <paramref name="a"/>.</summary>
    /// <param name="a">Symmetric operator, shape (d, d); the vectors move to its dtype/device.</param>
    /// <param name="gammaStar">γ* ∈ [0, 1] (see <see cref="ExactSpectrum.GammaStar"/>).</param>
    /// <param name="iterations">Number of updates (≥ 1).</param>
    public void Step(Tensor a, double gammaStar, int iterations = 1)
    {
        ThrowIfDisposed();
        EnergyGuards.RequireSquare(a, nameof(a), Dimension);
        if (iterations < 1) throw new ArgumentOutOfRangeException(nameof(iterations), iterations, "iterations must be ≥ 1.");
        using var scope = NewDisposeScope();
        var m = a.detach();
        var p0 = _uPlus.to(m.dtype, m.device);
        var n0 = _uMinus.to(m.dtype, m.device);
        var p = p0;
        var n = n0;
        double g = gammaStar;
        for (int it = 0; it < iterations; it++)
        {
            using var inner = NewDisposeScope();
            var ap = m.matmul(p);
            var an = m.matmul(n);
            var r = p.dot(ap);
            var c = p.dot(an);
            // Oja (dominant).
            var pNext = p + EtaPlus * ((ap - r * p) - (1 - g) * c * n);
            pNext = pNext / pNext.norm();
            // MCA EXIN (minor), averaged form, plus the γ*-weighted coupling.
            var nu = n.dot(n);
            var y = n.dot(an);
            var nNext = n - (EtaMinus / nu) * (an - (y / nu) * n) + (EtaMinus * g * (1 - g)) * c * p;
            nNext = nNext / nNext.norm();
            nNext = nNext - pNext.dot(nNext) * pNext;
            nNext = nNext / nNext.norm();
            pNext = pNext.MoveToOuterDisposeScope();
            nNext = nNext.MoveToOuterDisposeScope();
            if (!ReferenceEquals(p, p0)) { p.Dispose(); n.Dispose(); }
            p = pNext;
            n = nNext;
        }
        // Device-side guard: keep the old vectors if anything went non-finite.
        var ok = p.isfinite().all().logical_and(n.isfinite().all());
        var newPlus = torch.where(ok, p, p0).MoveToOuterDisposeScope();
        var newMinus = torch.where(ok, n, n0).MoveToOuterDisposeScope();
        Replace(newPlus, newMinus);
    }

    /// <summary>Rayleigh quotients (u+ᵀAu+, u−ᵀAu−) of the current vectors (one host sync).</summary>
    public (double Plus, double Minus) RayleighQuotients(Tensor a)
    {
        ThrowIfDisposed();
        EnergyGuards.RequireSquare(a, nameof(a), Dimension);
        using var scope = NewDisposeScope();
        var m = a.detach();
        var p = _uPlus.to(m.dtype, m.device);
        var n = _uMinus.to(m.dtype, m.device);
        var both = torch.stack(new[] { p.dot(m.matmul(p)), n.dot(m.matmul(n)) }).to(ScalarType.Float64).cpu().data<double>().ToArray();
        return (both[0], both[1]);
    }

    /// <summary>
    /// Replaces both vectors: u+ is normalised, u− is orthogonalised against u+ and normalised. Tensors are copied.
    /// </summary>
    /// <exception cref="ArgumentException">Wrong shape, non-finite, zero, or u− parallel to u+.</exception>
    public void SetVectors(Tensor uPlus, Tensor uMinus)
    {
        ThrowIfDisposed();
        CheckVector(uPlus, nameof(uPlus));
        CheckVector(uMinus, nameof(uMinus));
        using var scope = NewDisposeScope();
        var p = uPlus.detach().to(_uPlus.dtype, _uPlus.device).clone();
        var n = uMinus.detach().to(p.dtype, p.device).clone();
        var norms = torch.stack(new[] { p.norm(), n.norm() }).to(ScalarType.Float64).cpu().data<double>().ToArray();
        if (!double.IsFinite(norms[0]) || norms[0] == 0) throw new ArgumentException("uPlus must be finite and non-zero.", nameof(uPlus));
        if (!double.IsFinite(norms[1]) || norms[1] == 0) throw new ArgumentException("uMinus must be finite and non-zero.", nameof(uMinus));
        p = p / norms[0];
        n = n / norms[1];
        n = n - p.dot(n) * p;
        double rest = n.to(ScalarType.Float64).norm().item<double>();
        if (!(rest > 1e-6)) throw new ArgumentException("uMinus must not be parallel to uPlus.", nameof(uMinus));
        Replace(p.MoveToOuterDisposeScope(), (n / rest).MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Checkpoint restore: if the vectors are already unit and orthogonal (within 1e-6) they are stored bit-for-bit
    /// (converted to the current dtype/device) so a resumed run follows the same trajectory; otherwise as <see cref="SetVectors"/>.
    /// </summary>
    internal void Restore(Tensor uPlus, Tensor uMinus)
    {
        ThrowIfDisposed();
        CheckVector(uPlus, nameof(uPlus));
        CheckVector(uMinus, nameof(uMinus));
        using var scope = NewDisposeScope();
        var p = uPlus.detach().to(ScalarType.Float64);
        var n = uMinus.detach().to(ScalarType.Float64);
        var v = torch.stack(new[] { p.norm(), n.norm(), p.dot(n) }).cpu().data<double>().ToArray();
        bool clean = v.All(double.IsFinite) && Math.Abs(v[0] - 1) < 1e-6 && Math.Abs(v[1] - 1) < 1e-6 && Math.Abs(v[2]) < 1e-6;
        if (!clean)
        {
            SetVectors(uPlus, uMinus);
            return;
        }
        Replace(uPlus.detach().to(_uPlus.dtype, _uPlus.device).clone().MoveToOuterDisposeScope(),
                uMinus.detach().to(_uPlus.dtype, _uPlus.device).clone().MoveToOuterDisposeScope());
    }

    /// <summary>Replaces both vectors with copies of the given values, bit-exactly (checkpoint resume); no
    /// normalisation. The vectors take <paramref name="uPlus"/>'s dtype and device.</summary>
    internal void RestoreExact(Tensor uPlus, Tensor uMinus)
    {
        ThrowIfDisposed();
        CheckVector(uPlus, nameof(uPlus));
        CheckVector(uMinus, nameof(uMinus));
        var p = uPlus.detach().clone();
        var n = uMinus.detach().to(p.dtype, p.device).clone();
        Replace(p, n);
    }

    /// <summary>Draws u+ in the complement of <paramref name="basis"/>, then u− in the complement of both Q and u+.</summary>
    /// <exception cref="InvalidOperationException">The complement of Q has fewer than two dimensions.</exception>
    public void Redraw(CapturedBasis basis, Generator generator)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(basis);
        ArgumentNullException.ThrowIfNull(generator);
        if (basis.Dimension != Dimension) throw new ArgumentException($"basis has dimension {basis.Dimension}, expected {Dimension}.", nameof(basis));
        if (Dimension - basis.Count < 2) throw new InvalidOperationException("The complement of Q must have at least two dimensions to hold u+ and u−.");
        var (p, n) = DrawPair(basis, generator);
        using var scope = NewDisposeScope();
        var pp = p.to(_uPlus.dtype, _uPlus.device).MoveToOuterDisposeScope();
        var nn = n.to(_uPlus.dtype, _uPlus.device).MoveToOuterDisposeScope();
        if (!ReferenceEquals(pp, p)) p.Dispose();
        if (!ReferenceEquals(nn, n)) n.Dispose();
        Replace(pp, nn);
    }

    private static (Tensor Plus, Tensor Minus) DrawPair(CapturedBasis basis, Generator generator)
    {
        using var extended = basis.Clone();
        var p = extended.RandomUnitInComplement(generator);
        extended.Append(p);
        var n = extended.RandomUnitInComplement(generator);
        return (p.DetachFromDisposeScope(), n.DetachFromDisposeScope());
    }

    private void CheckVector(Tensor v, string name)
    {
        ArgumentNullException.ThrowIfNull(v, name);
        if (v.dim() != 1 || v.shape[0] != Dimension)
            throw new ArgumentException($"{name} must have shape ({Dimension}); got ({string.Join(", ", v.shape)}).", name);
        EnergyGuards.RequireFloating(v, name);
    }

    private void Replace(Tensor plus, Tensor minus)
    {
        plus.DetachFromDisposeScope();
        minus.DetachFromDisposeScope();
        var oldPlus = _uPlus;
        var oldMinus = _uMinus;
        _uPlus = plus;
        _uMinus = minus;
        if (!ReferenceEquals(oldPlus, plus)) oldPlus?.Dispose();
        if (!ReferenceEquals(oldMinus, minus)) oldMinus?.Dispose();
    }

    /// <summary>Releases both vectors.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _uPlus.Dispose();
        _uMinus.Dispose();
    }

    private OjaMcaTracker ThrowIfDisposed()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return this;
    }
}
