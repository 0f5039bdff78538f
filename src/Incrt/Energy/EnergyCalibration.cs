namespace Incrt.Energy;

/// <summary>
/// Calibration of the energy scale (docs/algorithm.md §3): Γ(0) is the median of ‖A_res‖_F over the first
/// N calibration batches (default 16); thresholds follow from it (<see cref="EnergyThresholds.FromGamma0"/>).
/// The median makes Γ(0) robust to a few atypical early batches.
/// </summary>
public sealed class EnergyCalibration
{
    /// <summary>Default number of calibration batches N.</summary>
    public const int DefaultBatches = 16;

    private readonly List<double> _norms = new();

    /// <summary>Creates a calibration that collects <paramref name="batches"/> norms.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batches"/> &lt; 1.</exception>
    public EnergyCalibration(int batches = DefaultBatches)
    {
        if (batches < 1) throw new ArgumentOutOfRangeException(nameof(batches), batches, "batches must be ≥ 1.");
        Batches = batches;
    }

    /// <summary>N, the number of norms to collect.</summary>
    public int Batches { get; }

    /// <summary>Norms collected so far.</summary>
    public int Collected => _norms.Count;

    /// <summary>The norms collected so far, in order (checkpoints).</summary>
    internal IReadOnlyList<double> Norms => _norms;

    /// <summary>True once N norms are collected.</summary>
    public bool IsComplete => _norms.Count >= Batches;

    /// <summary>Records ‖A_res‖_F of one batch. Norms offered after completion are ignored.</summary>
    /// <returns><see cref="IsComplete"/> after the call.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="frobeniusNorm"/> is negative or non-finite
    /// (skip non-finite readings instead of recording them).</exception>
    public bool Add(double frobeniusNorm)
    {
        if (!double.IsFinite(frobeniusNorm) || frobeniusNorm < 0)
            throw new ArgumentOutOfRangeException(nameof(frobeniusNorm), frobeniusNorm, "frobeniusNorm must be finite and ≥ 0.");
        if (!IsComplete) _norms.Add(frobeniusNorm);
        return IsComplete;
    }

    /// <summary>Γ(0), the median of the collected norms.</summary>
    /// <exception cref="InvalidOperationException">Fewer than N norms were collected.</exception>
    public double Gamma0 => IsComplete
        ? Median(_norms)
        : throw new InvalidOperationException($"Calibration incomplete: {Collected} of {Batches} norms collected.");

    /// <summary>Thresholds from <see cref="Gamma0"/> with optional overrides (see <see cref="EnergyThresholds.FromGamma0"/>).</summary>
    public EnergyThresholds Thresholds(double? thetaW = null, double? phiW = null, double? phiG = null) =>
        EnergyThresholds.FromGamma0(Gamma0, thetaW, phiW, phiG);

    /// <summary>Median of a non-empty sequence (mean of the two middle values for an even count).</summary>
    /// <exception cref="ArgumentException"><paramref name="values"/> is empty or contains NaN.</exception>
    public static double Median(IEnumerable<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var sorted = values.ToArray();
        if (sorted.Length == 0) throw new ArgumentException("values must not be empty.", nameof(values));
        if (sorted.Any(double.IsNaN)) throw new ArgumentException("values must not contain NaN.", nameof(values));
        Array.Sort(sorted);
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : 0.5 * (sorted[mid - 1] + sorted[mid]);
    }
}
