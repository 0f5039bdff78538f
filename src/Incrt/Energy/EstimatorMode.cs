namespace Incrt.Energy;

/// <summary>How <see cref="DirectionalEnergyEstimator"/> obtains the extreme eigenpairs of A_res.</summary>
public enum EstimatorMode
{
    /// <summary>Oja (dominant) + MCA EXIN (minor) online tracking, the paper's mode (docs/algorithm.md §3).</summary>
    Online,

    /// <summary>Extreme eigenpairs straight from torch.linalg.eigh (reference / debugging).</summary>
    Exact,

    /// <summary>The extreme eigenpairs (λ1, λ2, λ_{d−1}, λ_d, u+, u−) from a warm-started block Krylov solver with
    /// Rayleigh–Ritz, residual-checked against <see cref="EstimatorOptions.BlockTolerance"/>, falling back to eigh when it
    /// does not converge or d is too small for a block (docs/algorithm.md §3). Same readings as <see cref="Exact"/> to
    /// the tolerance, without the O(d³) decomposition.</summary>
    Block,
}
