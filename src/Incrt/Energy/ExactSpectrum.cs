using TorchSharp;
using static TorchSharp.torch;

namespace Incrt.Energy;

/// <summary>
/// Exact spectrum of a symmetric operator via torch.linalg.eigh (ascending λ_d ≤ … ≤ λ_1), with the spectral gaps
/// Δ+ = max(λ1 − λ2, ε), Δ− = max(λ_{d−1} − λ_d, ε) and the mixing weight γ* = Δ+ / (Δ+ + Δ− + ε), ε = 1e-8
/// (docs/algorithm.md §3). The gaps are taken from this decomposition in both estimator modes.
/// </summary>
/// <remarks>Owns its eigenvalue/eigenvector tensors; dispose it. Computing it costs one host sync (four eigenvalues).
/// For d = 1 the single eigenvalue plays every role and both gaps are ε.</remarks>
public sealed class ExactSpectrum : IDisposable
{
    /// <summary>The floor ε applied to both gaps and to γ*'s denominator.</summary>
    public const double GapFloor = 1e-8;

    private ExactSpectrum(Tensor eigenvalues, Tensor eigenvectors, double[] extremes)
    {
        Eigenvalues = eigenvalues.DetachFromDisposeScope();
        Eigenvectors = eigenvectors.DetachFromDisposeScope();
        LambdaMax = extremes[0];
        LambdaSecond = extremes[1];
        LambdaSecondSmallest = extremes[2];
        LambdaMin = extremes[3];
        (GapPlus, GapMinus, GammaStar) = Gaps(LambdaMax, LambdaSecond, LambdaSecondSmallest, LambdaMin);
    }

    /// <summary>All eigenvalues, ascending, shape (d), operator's dtype/device. Owned by this instance.</summary>
    public Tensor Eigenvalues { get; }

    /// <summary>Orthonormal eigenvectors as columns (column i pairs with <see cref="Eigenvalues"/>[i]), shape (d, d). Owned by this instance.</summary>
    public Tensor Eigenvectors { get; }

    /// <summary>λ1, the largest eigenvalue.</summary>
    public double LambdaMax { get; }

    /// <summary>λ2, the second largest eigenvalue.</summary>
    public double LambdaSecond { get; }

    /// <summary>λ_{d−1}, the second smallest eigenvalue.</summary>
    public double LambdaSecondSmallest { get; }

    /// <summary>λ_d, the smallest eigenvalue.</summary>
    public double LambdaMin { get; }

    /// <summary>Δ+ = max(λ1 − λ2, ε).</summary>
    public double GapPlus { get; }

    /// <summary>Δ− = max(λ_{d−1} − λ_d, ε).</summary>
    public double GapMinus { get; }

    /// <summary>γ* = Δ+ / (Δ+ + Δ− + ε) ∈ (0, 1).</summary>
    public double GammaStar { get; }

    /// <summary>Unit eigenvector of λ1, shape (d). The caller owns the returned tensor.</summary>
    public Tensor UPlus() => RequireVectors().Eigenvectors.select(1, Eigenvectors.shape[1] - 1).contiguous();

    /// <summary>Unit eigenvector of λ_d, shape (d). The caller owns the returned tensor.</summary>
    public Tensor UMinus() => RequireVectors().Eigenvectors.select(1, 0).contiguous();

    private ExactSpectrum RequireVectors() => Eigenvectors.dim() == 2 && Eigenvectors.shape[1] > 0
        ? this
        : throw new InvalidOperationException("This spectrum was computed without eigenvectors.");

    /// <summary>Decomposes a finite symmetric (d, d) operator.</summary>
    /// <exception cref="ArgumentException">Wrong shape/dtype, or a non-finite entry.</exception>
    public static ExactSpectrum Compute(Tensor symmetricOperator) => Compute(symmetricOperator, checkFinite: true, nameof(symmetricOperator));

    /// <param name="a">Symmetric (d, d) operator.</param>
    /// <param name="checkFinite">Whether to reject non-finite entries (one host sync).</param>
    /// <param name="name">Parameter name for errors.</param>
    /// <param name="withVectors">False: eigenvalues only (eigvalsh, several times cheaper than eigh for d in the
    /// hundreds); <see cref="Eigenvectors"/> is then empty and <see cref="UPlus"/>/<see cref="UMinus"/> throw.</param>
    internal static ExactSpectrum Compute(Tensor a, bool checkFinite, string name = "symmetricOperator", bool withVectors = true)
    {
        EnergyGuards.RequireSquare(a, name);
        using var scope = NewDisposeScope();
        var m = a.detach();
        if (checkFinite && !m.isfinite().all().item<bool>())
            throw new ArgumentException("The operator contains NaN or ±Inf.", name);
        var (values, vectors) = withVectors
            ? torch.linalg.eigh(m)
            : (torch.linalg.eigvalsh(m), torch.empty(new long[] { 0 }, dtype: m.dtype, device: m.device));
        long d = values.shape[0];
        var idx = torch.tensor(new long[] { d - 1, Math.Max(d - 2, 0), Math.Min(1, d - 1), 0 }, device: values.device);
        var extremes = values.index_select(0, idx).to(ScalarType.Float64).cpu().data<double>().ToArray();
        return new ExactSpectrum(values.MoveToOuterDisposeScope(), vectors.MoveToOuterDisposeScope(), extremes);
    }

    /// <summary>Δ+, Δ− and γ* from the four extreme eigenvalues (λ1 ≥ λ2, λ_{d−1} ≥ λ_d).</summary>
    public static (double GapPlus, double GapMinus, double GammaStar) Gaps(double lambda1, double lambda2, double lambdaSecondSmallest, double lambdaMin)
    {
        double plus = Math.Max(lambda1 - lambda2, GapFloor);
        double minus = Math.Max(lambdaSecondSmallest - lambdaMin, GapFloor);
        return (plus, minus, plus / (plus + minus + GapFloor));
    }

    /// <summary>Releases the eigen-decomposition tensors.</summary>
    public void Dispose()
    {
        Eigenvalues.Dispose();
        Eigenvectors.Dispose();
    }
}
