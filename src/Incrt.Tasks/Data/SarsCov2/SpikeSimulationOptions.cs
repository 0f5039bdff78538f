namespace Incrt.Tasks.Data.SarsCov2;

/// <summary>
/// Noise model of <see cref="SpikeSimulator"/>. The defaults imitate real spike sequences from public databases.
/// </summary>
public sealed record SpikeSimulationOptions
{
    /// <summary>
    /// Probability that each mutation of the lineage's profile is present (independently, except that a run of
    /// deletions at consecutive positions such as del69-70 is kept or dropped as a whole); an absent mutation leaves
    /// the Wuhan-Hu-1 residue (a deletion is not made, an insertion not inserted). Default 0.95: real lineage-defining
    /// signatures appear in about 93–98% of the sequences of a class (e.g. through sequencing drop-outs and reversions).
    /// </summary>
    public double MutationPresenceProbability { get; init; } = 0.95;

    /// <summary>
    /// Mean of the Poisson-distributed number of extra random substitutions per sequence (a uniformly chosen position
    /// gets a different, uniformly chosen standard amino acid). Default 2.
    /// </summary>
    public double BackgroundSubstitutionMean { get; init; } = 2.0;

    /// <summary>Probability that a sequence contains one run of unknown residues <c>X</c>. Default 0.5.</summary>
    public double UnknownRunProbability { get; init; } = 0.5;

    /// <summary>Shortest run of <c>X</c> (uniform between this and <see cref="MaxUnknownRunLength"/>). Default 1.</summary>
    public int MinUnknownRunLength { get; init; } = 1;

    /// <summary>Longest run of <c>X</c>. Default 12.</summary>
    public int MaxUnknownRunLength { get; init; } = 12;

    /// <summary>
    /// Probability that each end (N- and C-terminal, independently) is trimmed. Default 0.5. Real spike sequences are
    /// 1,236–1,278 aa; with the defaults simulated ones stay within that range.
    /// </summary>
    public double TrimProbability { get; init; } = 0.5;

    /// <summary>Largest number of residues trimmed from one end (uniform 1..this when trimmed). Default 15, so at most 30 in all.</summary>
    public int MaxTrimPerEnd { get; init; } = 15;

    /// <summary>Options without any noise: every mutation present, no background, no <c>X</c>, no trimming.</summary>
    public static SpikeSimulationOptions Exact { get; } = new()
    {
        MutationPresenceProbability = 1.0,
        BackgroundSubstitutionMean = 0,
        UnknownRunProbability = 0,
        TrimProbability = 0,
    };

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for an out-of-range option.</summary>
    public void Validate()
    {
        static void Prob(double p, string name)
        {
            if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(name, p, "Must be a probability in [0, 1].");
        }
        Prob(MutationPresenceProbability, nameof(MutationPresenceProbability));
        Prob(UnknownRunProbability, nameof(UnknownRunProbability));
        Prob(TrimProbability, nameof(TrimProbability));
        if (!(BackgroundSubstitutionMean >= 0 && BackgroundSubstitutionMean <= 100))
        {
            throw new ArgumentOutOfRangeException(nameof(BackgroundSubstitutionMean), BackgroundSubstitutionMean, "Must be in [0, 100].");
        }
        if (MinUnknownRunLength < 1 || MaxUnknownRunLength < MinUnknownRunLength)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxUnknownRunLength), "Need 1 <= MinUnknownRunLength <= MaxUnknownRunLength.");
        }
        if (MaxTrimPerEnd < 0 || MaxTrimPerEnd > 200) throw new ArgumentOutOfRangeException(nameof(MaxTrimPerEnd), MaxTrimPerEnd, "Must be in [0, 200].");
    }
}
