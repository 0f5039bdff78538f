namespace Incrt.Control;

/// <summary>What the controller did in one call for one layer.</summary>
public enum HeadEventKind
{
    /// <summary>Γ(0) was fixed and the thresholds derived.</summary>
    Calibrated,
    /// <summary>A head was added.</summary>
    Grew,
    /// <summary>A head was removed.</summary>
    Pruned,
    /// <summary>The call was skipped because a loss, input, motor or eigenvalue was not finite.</summary>
    SkippedNonFinite,
}

/// <summary>A structured controller decision, raised through <see cref="HeadController.HeadChanged"/> and logged.</summary>
/// <param name="Step">Optimizer step of the call.</param>
/// <param name="Call">Controller call number (0-based).</param>
/// <param name="Layer">Index of the layer in the controller's list.</param>
/// <param name="Kind">What happened.</param>
/// <param name="HeadIndex">Position of the added/removed head (−1 if none).</param>
/// <param name="HeadId">Stable id of the added/removed head (−1 if none).</param>
/// <param name="LambdaMax">λmax read this call.</param>
/// <param name="LambdaMin">λmin read this call.</param>
/// <param name="ThetaW">Growth threshold θ_w.</param>
/// <param name="PhiW">Minor threshold φ_w.</param>
/// <param name="GapPlus">Δ+ this call.</param>
/// <param name="DwellCalls">Dwell time T_d this call.</param>
/// <param name="HeadsAfter">Head count after the event.</param>
/// <param name="Statistic">Prune statistic of the removed head, or Γ(0) for calibration.</param>
public sealed record HeadEvent(
    long Step, long Call, int Layer, HeadEventKind Kind, int HeadIndex, long HeadId,
    double LambdaMax, double LambdaMin, double ThetaW, double PhiW, double GapPlus, long DwellCalls, int HeadsAfter,
    double Statistic = double.NaN);
