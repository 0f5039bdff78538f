namespace Incrt.Tasks.Data.SarsCov2;

/// <summary>
/// Ranges of the simulator's noise settings for training-time augmentation: every training sequence is simulated with
/// its own <see cref="SpikeSimulationOptions"/>, drawn uniformly from these ranges, so that a model does not learn one
/// noise setting (how many background substitutions, how often a defining mutation drops out, how often runs of
/// <c>X</c> appear, how long they are). Trimming and the shortest run length are kept from the base options.
/// </summary>
public sealed record SpikeSimulationRanges
{
    /// <summary>Lowest <see cref="SpikeSimulationOptions.MutationPresenceProbability"/>. Default 0.6.</summary>
    public double MinPresence { get; init; } = 0.6;

    /// <summary>Highest <see cref="SpikeSimulationOptions.MutationPresenceProbability"/>. Default 1.</summary>
    public double MaxPresence { get; init; } = 1.0;

    /// <summary>Lowest <see cref="SpikeSimulationOptions.BackgroundSubstitutionMean"/>. Default 0.</summary>
    public double MinBackgroundMean { get; init; }

    /// <summary>Highest <see cref="SpikeSimulationOptions.BackgroundSubstitutionMean"/>. Default 20.</summary>
    public double MaxBackgroundMean { get; init; } = 20;

    /// <summary>Lowest <see cref="SpikeSimulationOptions.UnknownRunProbability"/>. Default 0.</summary>
    public double MinUnknownRunProbability { get; init; }

    /// <summary>Highest <see cref="SpikeSimulationOptions.UnknownRunProbability"/>. Default 1.</summary>
    public double MaxUnknownRunProbability { get; init; } = 1.0;

    /// <summary>Lowest <see cref="SpikeSimulationOptions.MaxUnknownRunLength"/>. Default 12 (the simulator's default).</summary>
    public int MinMaxUnknownRunLength { get; init; } = 12;

    /// <summary>Highest <see cref="SpikeSimulationOptions.MaxUnknownRunLength"/>. Default 60.</summary>
    public int MaxMaxUnknownRunLength { get; init; } = 60;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for an empty or out-of-range interval.</summary>
    public void Validate()
    {
        static void Interval(double lo, double hi, double max, string name)
        {
            if (!(lo >= 0 && lo <= hi && hi <= max)) throw new ArgumentOutOfRangeException(name, $"Need 0 <= min <= max <= {max}; got [{lo}, {hi}].");
        }
        Interval(MinPresence, MaxPresence, 1, nameof(MinPresence));
        Interval(MinBackgroundMean, MaxBackgroundMean, 100, nameof(MinBackgroundMean));
        Interval(MinUnknownRunProbability, MaxUnknownRunProbability, 1, nameof(MinUnknownRunProbability));
        Interval(MinMaxUnknownRunLength, MaxMaxUnknownRunLength, 1000, nameof(MinMaxUnknownRunLength));
    }

    /// <summary>Draws one setting: each range uniformly and independently; everything else from <paramref name="baseOptions"/>.</summary>
    /// <param name="random">Source of randomness.</param>
    /// <param name="baseOptions">Settings not covered by the ranges (trimming, run lengths).</param>
    public SpikeSimulationOptions Sample(Random random, SpikeSimulationOptions baseOptions)
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(baseOptions);
        double Uniform(double lo, double hi) => lo + (hi - lo) * random.NextDouble();
        return baseOptions with
        {
            MutationPresenceProbability = Uniform(MinPresence, MaxPresence),
            BackgroundSubstitutionMean = Uniform(MinBackgroundMean, MaxBackgroundMean),
            UnknownRunProbability = Uniform(MinUnknownRunProbability, MaxUnknownRunProbability),
            MaxUnknownRunLength = Math.Max(baseOptions.MinUnknownRunLength, random.Next(MinMaxUnknownRunLength, MaxMaxUnknownRunLength + 1)),
        };
    }
}
