namespace Incrt.Energy;

/// <summary>How <see cref="DirectionalEnergyEstimator"/> obtains the extreme eigenpairs of A_res.</summary>
public enum EstimatorMode
{
    /// <summary>Oja (dominant) + MCA EXIN (minor) online tracking, the paper's mode (docs/algorithm.md §3).</summary>
    Online,

    /// <summary>Extreme eigenpairs straight from torch.linalg.eigh (reference / debugging).</summary>
    Exact,
}
