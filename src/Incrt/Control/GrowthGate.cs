namespace Incrt.Control;

/// <summary>The dwell-time rule of the growth gate (docs/algorithm.md §4).</summary>
internal static class GrowthGate
{
    /// <summary>
    /// T_d = ⌈κ_T · ln(1/ε) / (η+ · Δ+²)⌉ calls: the time the Oja rule needs to settle on a new dominant direction
    /// after the operator changed; <paramref name="withoutGap"/> when Δ+ &lt; 1e-8; capped at <paramref name="cap"/>.
    /// </summary>
    public static long DwellCalls(double gapPlus, double etaPlus, double kappaT, double epsilon, int withoutGap, int? cap)
    {
        double raw = !(gapPlus >= 1e-8) ? withoutGap : Math.Ceiling(kappaT * Math.Log(1 / epsilon) / (etaPlus * gapPlus * gapPlus));
        if (double.IsNaN(raw) || raw > long.MaxValue / 2) raw = long.MaxValue / 2;
        long calls = (long)raw;
        return cap is { } c ? Math.Min(calls, c) : calls;
    }

    /// <summary>The growth condition: λmax &gt; θ_w (energy left) and λmin &lt; φ_w (the operator is not uniformly large).</summary>
    public static bool EnergyAboveThreshold(double lambdaMax, double lambdaMin, double thetaW, double phiW) =>
        lambdaMax > thetaW && lambdaMin < phiW;
}
