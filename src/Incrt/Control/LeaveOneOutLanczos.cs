using Incrt.Attention;
using Incrt.Energy;
using TorchSharp;
using static TorchSharp.torch;

namespace Incrt.Control;

/// <summary>
/// The leave-one-out reading of <see cref="LeaveOneOutEnergy"/> without forming any per-head d×d matrix: every head's
/// reduced operator P⊥_h (F − S_h) P⊥_h is applied through the heads' rank-4·d_k factors, and its λmax is found by
/// a batched Lanczos run (all heads at once, full reorthogonalisation), warm-started from the layer's own top
/// eigenvector. A head whose Ritz value (a lower bound of its λmax) already exceeds its redundancy boundary is decided
/// after one or two products; the others are read to <see cref="Tolerance"/>, and a head not certified within
/// <see cref="MaxSteps"/> products takes the dense oracle's value (<see cref="LeaveOneOutEnergy.Compute"/>), so a reading
/// is never a guess.
/// </summary>
/// <remarks>
/// With A_h = M_a,h = ½(Q_h K_hᵀ − K_h Q_hᵀ) (Q_h = W_Q,h, K_h = W_K,h, d × d_k) and C symmetric,
/// S_h = sym(C A_h) = ½(C A_h − A_h C) = ¼(CQ_h·K_hᵀ − CK_h·Q_hᵀ − Q_h·(CK_h)ᵀ + K_h·(CQ_h)ᵀ), so S_h x costs two
/// (d × 4d_k) products; F x is one (H × d)·(d × d) product for all heads. The Frobenius norm of F − S_h comes from
/// the same factors: ‖F‖² − 2⟨F, C A_h⟩ + ‖S_h‖², each a sum over d × d_k or 2d_k × 2d_k blocks.
/// </remarks>
internal static class LeaveOneOutLanczos
{
    /// <summary>Most operator products per head before the dense fallback.</summary>
    public const int MaxSteps = 128;

    /// <summary>A Ritz value is accepted when its residual ‖A y − θ y‖ is at most this fraction of the operator's
    /// scale (‖F‖_F); the eigenvalue error is then at most that, and in practice its square over the gap (the tests
    /// find every head within 1e-8·‖F‖_F of the dense oracle).</summary>
    public const double Tolerance = 1e-7;

    /// <summary>Ritz values are read after 1, 2, 4 and then every 4 products: a useful head is usually decided by the
    /// first (the warm start's Rayleigh quotient already exceeds its boundary).</summary>
    private static bool IsCheck(int products) => products is 1 or 2 || products % 4 == 0;

    /// <summary>The reading for every head, as <see cref="LeaveOneOutEnergy.Compute"/> would give it.</summary>
    /// <param name="covariance">C, (d, d), symmetric, float64; its device is used throughout.</param>
    /// <param name="fullOperator">F = sym(C M_a), (d, d), of the whole layer (unprojected).</param>
    /// <param name="layer">The layer whose heads are left out in turn (its W_Q, W_K).</param>
    /// <param name="basis">Captured basis Q (d × k).</param>
    /// <param name="columnOfHead">For every head, the index of the Q column it owns, or −1.</param>
    /// <param name="start">The layer's top eigenvector u+ of P⊥ F P⊥ (d), the warm start; null = a fixed draw.</param>
    /// <param name="positivePart">‖A₊‖_F needs whole spectra: the dense oracle answers.</param>
    /// <param name="needEnergy">False: skip ‖F − S_h‖_F (an explicit or calibrated θ_w does not use it); Energy is NaN.</param>
    /// <param name="maxSteps">Products per head before the oracle answers (tests lower it to exercise that path).</param>
    /// <param name="boundary">Optional: for a head's reduced energy ‖F − S_h‖_F, the λmax at or below which h counts as
    /// redundant (+∞ when no decision is possible). A head whose Ritz value — a lower bound of its λmax — already
    /// exceeds it is decided (not redundant) and stops early, its LambdaMax then being that lower bound; every other
    /// head is read to <see cref="Tolerance"/>, so the redundant heads' statistics, which choose the head to prune,
    /// are exact. Null: every head to <see cref="Tolerance"/>.</param>
    public static LeaveOneOutReading Compute(Tensor covariance, Tensor fullOperator, GrowableMultiHeadAttention layer, CapturedBasis basis,
        IReadOnlyList<int> columnOfHead, IReadOnlyList<double>? start, bool positivePart = false, Func<double, double>? boundary = null,
        bool needEnergy = true, int maxSteps = MaxSteps)
    {
        ArgumentNullException.ThrowIfNull(covariance);
        ArgumentNullException.ThrowIfNull(fullOperator);
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(basis);
        ArgumentNullException.ThrowIfNull(columnOfHead);
        if (positivePart || layer.HeadCount == 0)
            return LeaveOneOutEnergy.Compute(covariance, fullOperator, layer.AntisymmetricForms(), basis, columnOfHead, positivePart);

        using var scope = NewDisposeScope();
        var c = covariance.detach();
        var f = fullOperator.detach().to(c.dtype, c.device);
        long d = c.shape[0], heads = layer.HeadCount;
        var (wq0, wk0) = layer.QueryKeyWeights();
        var wqk = cat(new[] { wq0, wk0 }, 2).to(c.dtype, c.device);            // (H, d, 2 d_k)
        long dk = wq0.shape[2];
        // C [W_Q,h, W_K,h] for all heads as one d × d × 2H·d_k product (H small products cost more on the CPU).
        var cqk = c.matmul(wqk.permute(1, 0, 2).reshape(d, heads * 2 * dk)).reshape(d, heads, 2 * dk).permute(1, 0, 2);
        var w4 = cat(new[] { wqk, cqk }, 2).contiguous();                      // (H, d, 4 d_k): [Q, K, CQ, CK]
        var energyHost = needEnergy
            ? ReducedNorms(f, wqk.narrow(2, 0, dk), wqk.narrow(2, dk, dk), cqk.narrow(2, 0, dk), cqk.narrow(2, dk, dk))
                .to(ScalarType.Float64).cpu().data<double>().ToArray()
            : Enumerable.Repeat(double.NaN, (int)heads).ToArray();
        var bounds = energyHost.Select(e => boundary?.Invoke(e) ?? double.NaN).ToArray();
        var projector = Projector.Of(basis, columnOfHead, heads, c);
        using var order = tensor(new long[] { 3, 2, 1, 0 }, device: c.device);
        using var signs = tensor(new[] { -0.25, 0.25, 0.25, -0.25 }, c.dtype, c.device).view(1, 4, 1);
        var (lambdaHost, certified) = LargestEigenvalues(x => projector.Apply(Reduced(f, w4, projector.Apply(x), order, signs)), projector,
            StartVectors(start, projector, heads, d, c), f.norm().item<double>(), bounds, maxSteps);

        var missing = Enumerable.Range(0, (int)heads).Where(h => !certified[h]).ToArray();
        if (missing.Length > 0)
        {
            // The oracle, for the heads Lanczos could not certify only (rare: a flat top of the spectrum).
            using var rows = tensor(missing.Select(h => (long)h).ToArray(), device: wq0.device);
            var dense = LeaveOneOutEnergy.Compute(c, f, layer.AntisymmetricForms(rows), basis, missing.Select(h => columnOfHead[h]).ToArray());
            for (int i = 0; i < missing.Length; i++) lambdaHost[missing[i]] = dense.LambdaMax[i];
        }
        return new LeaveOneOutReading(lambdaHost, energyHost);
    }

    /// <summary>(F − S_h) x for every head: x (H, d) → (H, d).</summary>
    private static Tensor Reduced(Tensor f, Tensor w4, Tensor x, Tensor order, Tensor signs)
    {
        long heads = x.shape[0], dk4 = w4.shape[2], dk = dk4 / 4;
        var z = x.unsqueeze(1).matmul(w4).view(heads, 4, dk);                 // [Qᵀx, Kᵀx, (CQ)ᵀx, (CK)ᵀx]
        // S_h x = W4 · ¼[−(CK)ᵀx, (CQ)ᵀx, Kᵀx, −Qᵀx]: reorder the four blocks and sign them.
        var coefficients = z.index_select(1, order).mul_(signs).view(heads, dk4, 1);
        return x.matmul(f) - w4.matmul(coefficients).squeeze(2);             // F symmetric: x F = (F x)ᵀ row-wise
    }

    /// <summary>‖F − S_h‖_F for every head from the factors (docs in the class remarks).</summary>
    private static Tensor ReducedNorms(Tensor f, Tensor wq, Tensor wk, Tensor cq, Tensor ck)
    {
        var inner = ((wk * f.matmul(cq)).sum(new long[] { 1, 2 }) - (wq * f.matmul(ck)).sum(new long[] { 1, 2 })) * 0.5;  // ⟨F, C A_h⟩
        var u = cat(new[] { cq, ck }, 2);                                       // X = C A_h = ½ U Vᵀ
        var v = cat(new[] { wk, -wq }, 2);
        var ut = u.transpose(1, 2);
        var vt = v.transpose(1, 2);
        var xx = (ut.matmul(u) * vt.matmul(v)).sum(new long[] { 1, 2 }) * 0.25;   // ‖X‖²
        var vu = vt.matmul(u);
        var trace = (vu * vu.transpose(1, 2)).sum(new long[] { 1, 2 }) * 0.25;      // tr(X X)
        var squared = f.square().sum() - 2 * inner + 0.5 * (xx + trace);          // ‖F − sym X‖²
        return squared.clamp_min(0).sqrt();
    }

    /// <summary>Normalised P⊥_h (u+ + a fixed draw): mostly the layer's top direction, with enough of every other
    /// direction that the Krylov space cannot miss a new top eigenvector.</summary>
    private static Tensor StartVectors(IReadOnlyList<double>? start, Projector projector, long heads, long d, Tensor like)
    {
        var noise = CounterNormals.Draw(new[] { heads, d }, seed: 0x1E0A_0001, like.device).to(like.dtype);
        noise = noise / noise.norm(1, keepdim: true) * 0.3;
        var x = start is { Count: > 0 } s && s.Count == d ? tensor(s.ToArray(), like.dtype, like.device).unsqueeze(0) + noise : noise;
        x = projector.Apply(x);
        return x / x.norm(1, keepdim: true).clamp_min(1e-300);
    }

    /// <summary>Batched Lanczos with full reorthogonalisation: the largest Ritz value per row and whether its residual
    /// met <see cref="Tolerance"/>.</summary>
    private static (double[] Lambda, bool[] Certified) LargestEigenvalues(Func<Tensor, Tensor> apply, Projector projector, Tensor v0, double scale,
        double[] bounds, int maxSteps)
    {
        long heads = v0.shape[0], d = v0.shape[1];
        int steps = (int)Math.Min(maxSteps, Math.Max(1, d - projector.Rank + 1));
        var basis = empty(new[] { heads, steps + 1, d }, v0.dtype, v0.device);    // rows written in place before they are read
        basis.select(1, 0).copy_(v0);
        var alphas = new List<Tensor>(); var betas = new List<Tensor>();
        var alphaHost = new double[heads][]; var betaHost = new double[heads][];   // T's entries, read at checks
        for (int h = 0; h < heads; h++) { alphaHost[h] = new double[steps]; betaHost[h] = new double[steps]; }
        int onHost = 0;
        var lambda = new double[heads];
        var certified = new bool[heads];
        double tolerance = Tolerance * Math.Max(scale, double.Epsilon);
        for (int j = 0; j < steps; j++)
        {
            using var stepScope = NewDisposeScope();
            var v = basis.select(1, j);
            var w = apply(v);
            var a = (w * v).sum(1);
            var q = basis.narrow(1, 0, j + 1);                                   // (H, j + 1, d), a view
            var qt = q.transpose(1, 2);
            w = w - w.unsqueeze(1).matmul(qt).matmul(q).squeeze(1);              // full reorthogonalisation
            var b = w.norm(1);
            alphas.Add(a.MoveToOuterDisposeScope()); betas.Add(b.MoveToOuterDisposeScope());
            bool last = j == steps - 1;
            if (last || IsCheck(j + 1))
            {
                onHost = ReadTridiagonals(alphas, betas, onHost, alphaHost, betaHost);
                var thetaHost = new double[heads];
                for (int h = 0; h < heads; h++)
                {
                    if (certified[h]) continue;
                    // Only the rows still open are solved (a decided row's tridiagonal is never read again).
                    var ritz = TridiagonalTop.Compute(alphaHost[h], betaHost[h], j + 1);
                    if (ritz is not { } top) { thetaHost[h] = double.NaN; continue; }
                    thetaHost[h] = top.Theta;
                    double residual = Math.Abs(betaHost[h][j] * top.LastComponent);
                    // θ ≤ λmax always (a Rayleigh quotient): θ above the boundary decides "not redundant" for good.
                    // No boundary at all (+∞: no θ_w yet) needs no precision either.
                    if (residual <= tolerance || top.Theta > bounds[h] || double.IsPositiveInfinity(bounds[h]))
                    {
                        certified[h] = true;
                        lambda[h] = top.Theta;
                    }
                }
                if (certified.All(x => x)) break;
                if (last)
                    for (int h = 0; h < heads; h++) if (!certified[h]) lambda[h] = thetaHost[h];
            }
            // An invariant subspace (β ≈ 0) restarts that row with a fresh direction orthogonal to the basis; its
            // tridiagonal then decouples (β = 0), so the Ritz values stay those of an orthonormal basis.
            var tiny = b <= 1e-13 * Math.Max(scale, double.Epsilon);
            if (tiny.any().item<bool>())
            {
                var fresh = projector.Apply(CounterNormals.Draw(new[] { heads, d }, (ulong)(0x1E0A_1000 + j), w.device).to(w.dtype));
                fresh = fresh - fresh.unsqueeze(1).matmul(qt).matmul(q).squeeze(1);
                w = where(tiny.unsqueeze(1), fresh, w);
                betas[^1] = where(tiny, zeros_like(b), b).MoveToOuterDisposeScope();
                onHost = Math.Min(onHost, j);                                    // the host copy of this β is stale
                b = where(tiny, w.norm(1), b);
            }
            basis.select(1, j + 1).copy_(w / b.clamp_min(1e-300).unsqueeze(1));
        }
        return (lambda, certified);
    }

    /// <summary>Copies the α and β of the steps not yet on the host (one transfer each) and returns the new count.</summary>
    private static int ReadTridiagonals(List<Tensor> alphas, List<Tensor> betas, int onHost, double[][] alphaHost, double[][] betaHost)
    {
        int count = alphas.Count - onHost;
        if (count == 0) return onHost;
        var a = stack(alphas.GetRange(onHost, count), 1).cpu().data<double>().ToArray();    // (H, count), row-major
        var b = stack(betas.GetRange(onHost, count), 1).cpu().data<double>().ToArray();
        for (int h = 0; h < alphaHost.Length; h++)
        {
            Array.Copy(a, h * count, alphaHost[h], onHost, count);
            Array.Copy(b, h * count, betaHost[h], onHost, count);
        }
        return alphas.Count;
    }

    /// <summary>P⊥_h = I − Q Qᵀ + q_j q_jᵀ for every head h (q_j: the column h owns, else 0), applied to rows.</summary>
    private sealed class Projector
    {
        private readonly Tensor? _q;
        private readonly Tensor _returned;

        private Projector(Tensor? q, Tensor returned, int rank) { _q = q; _returned = returned; Rank = rank; }

        /// <summary>Columns of the common basis (the reduced operators' guaranteed null directions, minus one).</summary>
        public int Rank { get; }

        public static Projector Of(CapturedBasis basis, IReadOnlyList<int> columnOfHead, long heads, Tensor like) =>
            new(basis.Count == 0 ? null : basis.Matrix.to(like.dtype, like.device),
                LeaveOneOutEnergy.ReturnedColumns(basis, columnOfHead, heads, like), basis.Count);

        public Tensor Apply(Tensor x)
        {
            if (_q is null) return x;
            var kept = x - x.matmul(_q).matmul(_q.t());
            return kept + _returned * (_returned * x).sum(1, keepdim: true);
        }
    }
}
