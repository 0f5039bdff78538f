using Incrt.Control;
using Incrt.Energy;

namespace Incrt.Synthetic;

/// <summary>Settings of the synthetic sweep (filled from the command line by <see cref="SweepCommandLine"/>).</summary>
internal sealed record SweepSettings
{
    public IReadOnlyList<int> Ks { get; init; } = new[] { 1, 2, 4, 8, 16 };
    public IReadOnlyList<int> Seeds { get; init; } = new[] { 1, 2, 3 };
    public IReadOnlyList<double> Noises { get; init; } = new[] { 0.0, 0.1 };
    public int Epochs { get; init; } = 8;
    public int DModel { get; init; } = 64;
    public int HeadDim { get; init; } = 16;
    public int Examples { get; init; } = 4000;
    public int BatchSize { get; init; } = 32;
    public int Vocabulary { get; init; } = 96;
    public int MaxHeads { get; init; } = 48;
    public string Out { get; init; } = "runs/synthetic";
    public int Threads { get; init; } = 1;
    public string Device { get; init; } = "cpu";
    public bool Fixed { get; init; } = true;
    public ThresholdMode ThresholdMode { get; init; } = ThresholdMode.Relative;
    public EstimatorMode EstimatorMode { get; init; } = EstimatorMode.Exact;
    public PruneStatistic Prune { get; init; } = new ControllerOptions().Prune;
    public double PruneRatio { get; init; } = new ControllerOptions().LeaveOneOutRatio;
    public bool Quick { get; init; }
    public bool Fit { get; init; }

    /// <summary>The <c>--quick</c> preset: K 1,4 × seed 1 × noise 0, 3 epochs of 2,000 examples, d_model 32.</summary>
    public SweepSettings WithQuickPreset() => this with
    {
        Quick = true, Ks = new[] { 1, 4 }, Seeds = new[] { 1 }, Noises = new[] { 0.0 }, Epochs = 3, Examples = 2000, DModel = 32,
        HeadDim = 8, Vocabulary = 48, Out = "runs/synthetic-quick",
    };

    /// <summary>The <c>--fit</c> preset: the predictor's fitting set, K 1,4,16 × seed 100 × noise 0, no fixed-K runs.</summary>
    public SweepSettings WithFitPreset() => this with
    {
        Fit = true, Ks = new[] { 1, 4, 16 }, Seeds = new[] { 100 }, Noises = new[] { 0.0 }, Fixed = false, Out = "runs/synthetic-fit",
    };

    /// <summary>Grows the vocabulary when the largest K needs more tokens than it has (3 specials + 2 per relation + 8 fillers).</summary>
    public SweepSettings WithVocabularyForKs() =>
        Ks.Any(k => 3 + 2 * k + 8 > Vocabulary) ? this with { Vocabulary = 3 + 2 * Ks.Max() + 32 } : this;
}
