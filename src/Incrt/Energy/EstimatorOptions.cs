namespace Incrt.Energy;

/// <summary>Options of <see cref="DirectionalEnergyEstimator"/>. Invalid values throw when set.</summary>
public sealed record EstimatorOptions
{
    private readonly double? _etaPlus;
    private readonly double? _etaMinus;
    private readonly int _iterations = 1;

    /// <summary>Online (default) or exact eigenpairs.</summary>
    public EstimatorMode Mode { get; init; } = EstimatorMode.Online;

    /// <summary>Oja step η+; null → 1/(10d). Must be finite and &gt; 0. See <see cref="OjaMcaTracker"/> on scaling with ‖A‖.</summary>
    public double? EtaPlus { get => _etaPlus; init => _etaPlus = CheckEta(value, nameof(EtaPlus)); }

    /// <summary>MCA step η−; null → η+/2. Must be finite and &gt; 0.</summary>
    public double? EtaMinus { get => _etaMinus; init => _etaMinus = CheckEta(value, nameof(EtaMinus)); }

    /// <summary>Tracker updates per <see cref="DirectionalEnergyEstimator.Observe(TorchSharp.torch.Tensor, TorchSharp.torch.Tensor, CapturedBasis?)"/> call (≥ 1, default 1).</summary>
    public int Iterations
    {
        get => _iterations;
        init => _iterations = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Iterations), value, "Iterations must be ≥ 1.");
    }

    /// <summary>Seed for the initial and re-drawn tracker vectors.</summary>
    public long Seed { get; init; }

    private static double? CheckEta(double? value, string name) =>
        value is double v && !(double.IsFinite(v) && v > 0)
            ? throw new ArgumentOutOfRangeException(name, v, $"{name} must be finite and > 0.")
            : value;
}
