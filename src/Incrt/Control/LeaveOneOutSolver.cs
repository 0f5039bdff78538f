namespace Incrt.Control;

/// <summary>How the <see cref="PruneStatistic.LeaveOneOut"/> statistic reads each head's λmax without it
/// (<see cref="ControllerOptions.LeaveOneOutSolver"/>).</summary>
public enum LeaveOneOutSolver
{
    /// <summary>One batched Lanczos run through the heads' rank-4·d_k factors, warm-started from the layer's top
    /// eigenvector; a head whose Ritz value is not certified falls back to <see cref="Dense"/>.</summary>
    Lanczos,

    /// <summary>The oracle: every head's reduced d×d operator formed and decomposed (H batched eigvalsh).</summary>
    Dense,
}
