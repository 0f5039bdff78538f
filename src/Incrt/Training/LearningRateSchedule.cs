namespace Incrt.Training;

/// <summary>Linear warm-up then cosine decay to a floor (docs/algorithm.md §6) [ref-code].</summary>
internal static class LearningRateSchedule
{
    /// <summary>
    /// Learning-rate multiplier at <paramref name="step"/> (0-based): (step+1)/warmup during warm-up, then
    /// floor + (1 − floor)·(1 + cos(π·progress))/2 until <paramref name="totalSteps"/>, then floor.
    /// </summary>
    public static double WarmupCosine(long step, long warmupSteps, long totalSteps, double floor)
    {
        if (step < 0) throw new ArgumentOutOfRangeException(nameof(step), step, "step must be ≥ 0.");
        if (!(floor >= 0 && floor <= 1)) throw new ArgumentOutOfRangeException(nameof(floor), floor, "floor must be in [0, 1].");
        if (step < warmupSteps) return (step + 1) / (double)warmupSteps;
        long decay = Math.Max(1, totalSteps - warmupSteps);
        double progress = Math.Min(1.0, (step - warmupSteps) / (double)decay);
        return floor + (1 - floor) * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }
}
