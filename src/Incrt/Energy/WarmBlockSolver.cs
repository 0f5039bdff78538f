using TorchSharp;
using static TorchSharp.torch;

namespace Incrt.Energy;

/// <summary>The four extreme eigenvalues of a symmetric operator (λ1 ≥ λ2, λ_{d−1} ≥ λ_d) and the unit eigenvectors of
/// λ1 and λ_d (operator's dtype/device; owned by the caller).</summary>
internal sealed record ExtremePairs(double LambdaMax, double LambdaSecond, double LambdaSecondSmallest, double LambdaMin,
    Tensor UPlus, Tensor UMinus) : IDisposable
{
    public void Dispose()
    {
        UPlus.Dispose();
        UMinus.Dispose();
    }
}

/// <summary>
/// <see cref="EstimatorMode.Block"/>'s solver: the extreme eigenpairs of successive operators by
/// <see cref="BlockKrylov"/>, each call started from the previous call's Ritz vectors (both ends) plus a few seeded
/// random vectors. A call whose Ritz residuals stay above the tolerance after <see cref="MaxRounds"/> restarts
/// returns null and the caller decomposes exactly (<see cref="Fallbacks"/> counts them).
/// </summary>
/// <remarks>Accuracy: a call is accepted when each of the four eigenvalues' error bound min(‖r‖, ‖r‖²/gap) (Weyl and
/// Kato–Temple for symmetric operators, gap = distance to the neighbouring Ritz value) is at most Tolerance·max|θ|.
/// The vectors u+, u− are accurate to about ‖r‖/gap (as eigh's, they are ill-determined when λ1 ≈ λ2). Owns its warm
/// block.</remarks>
internal sealed class WarmBlockSolver : IDisposable
{
    private const int RandomVectors = 2;   // fresh directions every call, so a new extreme is found even when the
                                           // warm block has lost it (e.g. after the captured basis grew)
    private readonly int _dimension;
    private readonly ulong _seed;
    private Tensor? _warm;                 // (d, 2·PerEnd): last Ritz vectors of the top and the bottom end
    private double _scale;                 // last max|λ|: the Chebyshev basis' interval

    public WarmBlockSolver(int dimension, EstimatorOptions options, ulong seed)
    {
        _dimension = dimension;
        PerEnd = options.BlockVectors;
        Steps = options.BlockSteps;
        Tolerance = options.BlockTolerance;
        _seed = seed;
    }

    /// <summary>Ritz vectors kept per end of the spectrum (≥ 2: the gaps need λ2 and λ_{d−1}).</summary>
    public int PerEnd { get; }

    /// <summary>Operator multiplications per round beyond the first (Krylov depth).</summary>
    public int Steps { get; }

    /// <summary>Relative residual tolerance ‖A y − θ y‖ ≤ tol·max|θ|.</summary>
    public double Tolerance { get; }

    /// <summary>Restarts before giving up on a call.</summary>
    public int MaxRounds { get; } = 3;

    /// <summary>Calls answered by the Krylov solver.</summary>
    public long Solved { get; private set; }

    /// <summary>Calls handed back to the exact decomposition (operator too small for a block, or no convergence).</summary>
    public long Fallbacks { get; private set; }

    /// <summary>Rounds used over all solved calls (rounds / solved = mean restarts + 1).</summary>
    public long Rounds { get; private set; }

    /// <summary>Subspace size of one round.</summary>
    public int SubspaceSize => (2 * PerEnd + RandomVectors) * (Steps + 1);

    /// <summary>Whether a d×d operator is large enough for the block method to pay off (subspace ≤ d/2).</summary>
    public bool Applies => SubspaceSize * 2 <= _dimension;

    /// <summary>The extreme pairs of symmetric <paramref name="a"/> (d, d), or null: decompose it exactly (then call
    /// <see cref="Remember"/> with the exact vectors).</summary>
    public ExtremePairs? Solve(Tensor a)
    {
        if (!Applies || _warm is null || !(_scale > 0)) { Fallbacks++; return null; }   // the first call decomposes exactly
        long call = Solved + Fallbacks;
        using var scope = NewDisposeScope();
        Tensor? start = _warm;
        for (int round = 0; round < MaxRounds; round++)
        {
            var fresh = Random(a, call * MaxRounds + round, start is null ? 2 * PerEnd + RandomVectors : RandomVectors);
            var block = start is null ? fresh : cat(new[] { start, fresh }, 1);
            var (theta, y, r, defect) = BlockKrylov.RayleighRitz(a, block, Steps, _scale * 1.05);
            long k = theta.shape[0];
            // θ_1..θ_3 and θ_{k−2}..θ_k with the residuals of the outer two at each end, in one host sync per round.
            var host = cat(new[] { theta.narrow(0, 0, 3), theta.narrow(0, k - 3, 3), r.narrow(0, 0, 2), r.narrow(0, k - 2, 2), defect.reshape(1) })
                .to(ScalarType.Float64).cpu().data<double>().ToArray();
            double[] t = host[..6], res = host[6..10];
            double scale = Math.Max(Math.Abs(t[0]), Math.Abs(t[5]));
            // Error bound of each wanted Ritz value: min(‖r‖, ‖r‖²/gap) with gap its distance to the neighbouring Ritz
            // value (Weyl, Kato–Temple); λ_d, λ_{d−1}, λ2, λ1 in that order.
            double[] bound =
            {
                Bound(res[0], t[1] - t[0]), Bound(res[1], Math.Min(t[1] - t[0], t[2] - t[1])),
                Bound(res[2], Math.Min(t[4] - t[3], t[5] - t[4])), Bound(res[3], t[5] - t[4]),
            };
            bool converged = bound.All(b => b <= Tolerance * scale) && host[10] <= 1e-8;
            var top = y.narrow(1, k - PerEnd, PerEnd);
            var bottom = y.narrow(1, 0, PerEnd);
            start = cat(new[] { top, bottom }, 1);
            Rounds++;
            if (!host.All(double.IsFinite)) break;
            if (scale > 0) _scale = scale;
            if (!converged) continue;
            Keep(start);
            Solved++;
            var up = y.select(1, k - 1).contiguous().MoveToOuterDisposeScope();
            var un = y.select(1, 0).contiguous().MoveToOuterDisposeScope();
            return new ExtremePairs(t[5], t[4], t[1], t[0], up, un);
        }
        Fallbacks++;
        return null;
    }

    private static double Bound(double residual, double gap) => gap > 0 ? Math.Min(residual, residual * residual / gap) : residual;

    /// <summary>Warm-starts the next call from an exact decomposition's eigenvectors (columns ascending) and its
    /// largest |λ|.</summary>
    public void Remember(Tensor eigenvectors, double largestMagnitude)
    {
        _scale = largestMagnitude;
        using var scope = NewDisposeScope();
        long d = eigenvectors.shape[1];
        if (d < 2 * PerEnd) return;
        Keep(cat(new[] { eigenvectors.narrow(1, d - PerEnd, PerEnd), eigenvectors.narrow(1, 0, PerEnd) }, 1));
    }

    private void Keep(Tensor block)
    {
        _warm?.Dispose();
        _warm = block.detach().clone().DetachFromDisposeScope();
    }

    /// <summary>Seeded normals drawn on the CPU in float64 (the same draw on every device), moved to a's device.</summary>
    private Tensor Random(Tensor a, long draw, int columns)
    {
        using var g = new Generator(EnergyGuards.MixSeed(unchecked((long)_seed), draw));
        return randn(new long[] { _dimension, columns }, dtype: ScalarType.Float64, generator: g).to(a.dtype, a.device);
    }

    public void Dispose() => _warm?.Dispose();
}
