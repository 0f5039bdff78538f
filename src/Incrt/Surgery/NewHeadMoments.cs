namespace Incrt.Surgery;

/// <summary>What a new head's optimizer state holds right after growth.</summary>
public enum NewHeadMoments
{
    /// <summary>All zeros (the reference behaviour). With Adam's shared step count t large, the bias corrections are
    /// ≈ 1, and the first updates of the new head are |m/√v| ≈ 1 per element: up to several times the usual step.</summary>
    Zero,

    /// <summary>First moments zero; second moments (exp_avg_sq, max_exp_avg_sq) set to the mean over the existing heads,
    /// so the new head's first updates are scaled like its siblings' [inferred].</summary>
    WarmStart,
}
