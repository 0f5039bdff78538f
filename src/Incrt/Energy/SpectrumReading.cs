namespace Incrt.Energy;

/// <summary>
/// One reading of the residual directional energy (docs/algorithm.md §3), all on the host.
/// </summary>
/// <param name="IsFinite">False when the operator contained NaN/±Inf: every number is then NaN, the vectors are empty,
/// and the estimator's state was left untouched — the caller should skip this step.</param>
/// <param name="Mode">Mode that produced the reading.</param>
/// <param name="LambdaMax">Estimated largest eigenvalue: u+ᵀA u+ (online) or λ1 (exact).</param>
/// <param name="LambdaMin">Estimated smallest eigenvalue: u−ᵀA u− (online) or λ_d (exact).</param>
/// <param name="ExactLambdaMax">λ1 from eigh (available in every mode; lets callers monitor tracking error); in
/// <see cref="EstimatorMode.Block"/> the block solver's λ1 (to its tolerance).</param>
/// <param name="ExactLambdaMin">λ_d from eigh (block mode: the block solver's).</param>
/// <param name="GapPlus">Δ+ = max(λ1 − λ2, 1e-8), from eigh (block mode: the block solver).</param>
/// <param name="GapMinus">Δ− = max(λ_{d−1} − λ_d, 1e-8), from eigh (block mode: the block solver).</param>
/// <param name="GammaStar">γ* = Δ+ / (Δ+ + Δ− + 1e-8).</param>
/// <param name="FrobeniusNorm">‖A_res‖_F (used for calibration, <see cref="EnergyCalibration"/>).</param>
/// <param name="UPlus">Host copy of the dominant direction u+ (length d, unit).</param>
/// <param name="UMinus">Host copy of the minor direction u− (length d, unit).</param>
public sealed record SpectrumReading(
    bool IsFinite,
    EstimatorMode Mode,
    double LambdaMax,
    double LambdaMin,
    double ExactLambdaMax,
    double ExactLambdaMin,
    double GapPlus,
    double GapMinus,
    double GammaStar,
    double FrobeniusNorm,
    IReadOnlyList<double> UPlus,
    IReadOnlyList<double> UMinus)
{
    /// <summary>The reading returned for an operator with NaN/±Inf entries.</summary>
    public static SpectrumReading NonFinite(EstimatorMode mode, double frobeniusNorm) =>
        new(false, mode, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN,
            frobeniusNorm, Array.Empty<double>(), Array.Empty<double>());
}
