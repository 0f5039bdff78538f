namespace Incrt.Energy;

/// <summary>
/// Controller thresholds on the residual energy (docs/algorithm.md §3): grow above θ_w, hysteresis/wait level φ_w,
/// and the gap floor φ_g. Every value must be finite and &gt; 0; violations throw
/// <see cref="ArgumentOutOfRangeException"/> whose ParamName is the offending property.
/// </summary>
/// <param name="ThetaW">θ_w, the energy threshold (default 0.1 Γ(0)).</param>
/// <param name="PhiW">φ_w (default 0.5 θ_w).</param>
/// <param name="PhiG">φ_g (default 0.01 θ_w).</param>
public sealed record EnergyThresholds(double ThetaW, double PhiW, double PhiG)
{
    /// <summary>Default θ_w / Γ(0).</summary>
    public const double ThetaRatio = 0.1;

    /// <summary>Default φ_w / θ_w.</summary>
    public const double PhiWRatio = 0.5;

    /// <summary>Default φ_g / θ_w.</summary>
    public const double PhiGRatio = 0.01;

    private readonly double _thetaW = Check(ThetaW, nameof(ThetaW));

    /// <summary>θ_w.</summary>
    public double ThetaW { get => _thetaW; init => _thetaW = Check(value, nameof(ThetaW)); }

    private readonly double _phiW = Check(PhiW, nameof(PhiW));

    /// <summary>φ_w.</summary>
    public double PhiW { get => _phiW; init => _phiW = Check(value, nameof(PhiW)); }

    private readonly double _phiG = Check(PhiG, nameof(PhiG));

    /// <summary>φ_g.</summary>
    public double PhiG { get => _phiG; init => _phiG = Check(value, nameof(PhiG)); }

    /// <summary>
    /// Thresholds from the calibrated scale Γ(0): θ_w = 0.1 Γ(0), φ_w = 0.5 θ_w, φ_g = 0.01 θ_w, each replaced by its override
    /// when given (φ defaults follow an overridden θ_w).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="gamma0"/> or an override is non-finite or ≤ 0.</exception>
    public static EnergyThresholds FromGamma0(double gamma0, double? thetaW = null, double? phiW = null, double? phiG = null)
    {
        Check(gamma0, nameof(gamma0));
        double theta = thetaW ?? ThetaRatio * gamma0;
        Check(theta, nameof(thetaW));
        double pw = phiW ?? PhiWRatio * theta;
        double pg = phiG ?? PhiGRatio * theta;
        return new EnergyThresholds(theta, Check(pw, nameof(phiW)), Check(pg, nameof(phiG)));
    }

    private static double Check(double value, string name) =>
        double.IsFinite(value) && value > 0 ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be finite and > 0.");
}
