namespace Incrt.Planted;

/// <summary>Where a fixed-H accuracy curve has its knee, and how the grown head counts compare with it.</summary>
internal static class KneeAnalysis
{
    /// <summary>The knee of a fixed-H curve: the smallest H whose accuracy reaches <paramref name="threshold"/>, or null
    /// when none does.</summary>
    public static int? Knee(IReadOnlyDictionary<int, double> accuracyByHeads, double threshold)
    {
        ArgumentNullException.ThrowIfNull(accuracyByHeads);
        foreach (var h in accuracyByHeads.Keys.Order())
            if (accuracyByHeads[h] >= threshold) return h;
        return null;
    }

    /// <summary>True when the knee is sharp: one head fewer scores at least <paramref name="drop"/> lower (a knee at
    /// H = 1 has nothing below it and counts as sharp).</summary>
    public static bool IsSharp(IReadOnlyDictionary<int, double> accuracyByHeads, int knee, double drop) =>
        knee == 1 || (accuracyByHeads.TryGetValue(knee - 1, out var below) && below <= accuracyByHeads[knee] - drop);

    /// <summary>True when every H above the knee also reaches <paramref name="threshold"/>.</summary>
    public static bool IsFlatAfter(IReadOnlyDictionary<int, double> accuracyByHeads, int knee, double threshold) =>
        accuracyByHeads.Where(p => p.Key > knee).All(p => p.Value >= threshold);

    /// <summary>Pearson correlation of two equally long samples; NaN when either is constant or has fewer than 2 values.</summary>
    public static double Correlation(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.Count != y.Count) throw new ArgumentException($"x has {x.Count} values and y {y.Count}; they must match.", nameof(y));
        if (x.Count < 2) return double.NaN;
        double mx = x.Average(), my = y.Average(), sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < x.Count; i++)
        {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
            syy += (y[i] - my) * (y[i] - my);
        }
        return sxx == 0 || syy == 0 ? double.NaN : sxy / Math.Sqrt(sxx * syy);
    }
}
