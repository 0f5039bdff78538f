namespace Incrt.Energy;

/// <summary>Options of <see cref="DirectionalEnergyEstimator"/>. Invalid values throw when set.</summary>
public sealed record EstimatorOptions
{
    private readonly double? _etaPlus;
    private readonly double? _etaMinus;
    private readonly int _iterations = 1;
    private readonly int _blockVectors = 2;
    private readonly int _blockSteps = 12;
    private readonly double _blockTolerance = 1e-5;

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

    /// <summary><see cref="EstimatorMode.Block"/>: Ritz vectors kept per end of the spectrum between calls (≥ 2, default 2).
    /// The block is 2·BlockVectors + 2 vectors; the solver is used when (block size)·(BlockSteps + 1) ≤ d/2, eigh otherwise.</summary>
    public int BlockVectors
    {
        get => _blockVectors;
        init => _blockVectors = value >= 2 ? value : throw new ArgumentOutOfRangeException(nameof(BlockVectors), value, "BlockVectors must be ≥ 2.");
    }

    /// <summary><see cref="EstimatorMode.Block"/>: Krylov depth, operator products per round (≥ 1, default 12). With the defaults the subspace has 78 columns, so the
    /// solver serves d ≥ 156.</summary>
    public int BlockSteps
    {
        get => _blockSteps;
        init => _blockSteps = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(BlockSteps), value, "BlockSteps must be ≥ 1.");
    }

    /// <summary><see cref="EstimatorMode.Block"/>: a reading is accepted when the Ritz residuals of λ1, λ2, λ_{d−1}, λ_d are
    /// at most BlockTolerance·max|λ| (each eigenvalue is then within that distance of an exact one); otherwise the solver
    /// restarts, and after three rounds falls back to eigh. In (0, 0.01], default 1e-5.</summary>
    public double BlockTolerance
    {
        get => _blockTolerance;
        init => _blockTolerance = double.IsFinite(value) && value > 0 && value <= 0.01 ? value
            : throw new ArgumentOutOfRangeException(nameof(BlockTolerance), value, "BlockTolerance must be in (0, 0.01].");
    }

    /// <summary>Seed for the initial and re-drawn tracker vectors.</summary>
    public long Seed { get; init; }

    private static double? CheckEta(double? value, string name) =>
        value is double v && !(double.IsFinite(v) && v > 0)
            ? throw new ArgumentOutOfRangeException(name, v, $"{name} must be finite and > 0.")
            : value;
}
