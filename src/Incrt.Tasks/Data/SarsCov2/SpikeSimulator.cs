using System.Text;

namespace Incrt.Tasks.Data.SarsCov2;

/// <summary>One simulated spike sequence and what was done to it.</summary>
/// <param name="Lineage">The lineage it was simulated from.</param>
/// <param name="Sequence">The protein.</param>
/// <param name="PresentMutations">The profile mutations that were applied.</param>
/// <param name="AbsentMutations">The profile mutations that were left out.</param>
/// <param name="BackgroundSubstitutions">Number of random extra substitutions.</param>
/// <param name="UnknownRunLength">Length of the <c>X</c> run, 0 when there is none.</param>
/// <param name="TrimmedStart">Residues removed from the N terminus.</param>
/// <param name="TrimmedEnd">Residues removed from the C terminus.</param>
public sealed record SimulatedSpike(
    string Lineage,
    string Sequence,
    IReadOnlyList<SpikeMutation> PresentMutations,
    IReadOnlyList<SpikeMutation> AbsentMutations,
    int BackgroundSubstitutions,
    int UnknownRunLength,
    int TrimmedStart,
    int TrimmedEnd);

/// <summary>
/// Simulates realistic spike sequences of a lineage: its <see cref="LineageCatalog.GetProfile"/> mutations, each present
/// with a probability, then Poisson background substitutions, end trimming and a run of <c>X</c> (in that order, so
/// the <c>X</c> run is never trimmed away). Deterministic for a given <see cref="Random"/> seed.
/// </summary>
public sealed class SpikeSimulator
{
    private readonly LineageCatalog _catalog;

    /// <summary>Creates a simulator.</summary>
    /// <param name="catalog">Lineages and reference.</param>
    /// <param name="options">Noise model; <see langword="null"/> for the defaults.</param>
    public SpikeSimulator(LineageCatalog catalog, SpikeSimulationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        _catalog = catalog;
        Options = options ?? new SpikeSimulationOptions();
        Options.Validate();
    }

    /// <summary>The noise model.</summary>
    public SpikeSimulationOptions Options { get; }

    /// <summary>Simulates one sequence of a lineage, drawing all randomness from <paramref name="random"/>.</summary>
    /// <param name="lineage">Lineage name, e.g. <c>B.1.1.7</c>.</param>
    /// <param name="random">Source of randomness.</param>
    public SimulatedSpike Simulate(string lineage, Random random) => Simulate(lineage, random, Options);

    /// <summary>Simulates one sequence of a lineage with other noise settings than <see cref="Options"/> (e.g. settings
    /// drawn per training example by <see cref="SpikeSimulationRanges.Sample"/>).</summary>
    /// <param name="lineage">Lineage name, e.g. <c>B.1.1.7</c>.</param>
    /// <param name="random">Source of randomness.</param>
    /// <param name="options">Noise model of this sequence (validated).</param>
    public SimulatedSpike Simulate(string lineage, Random random, SpikeSimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var o = options;
        var profile = _catalog.GetProfile(lineage);
        var present = new List<SpikeMutation>(profile.Count);
        var absent = new List<SpikeMutation>();
        for (int i = 0; i < profile.Count;)
        {
            // A run of deletions at consecutive positions (del69-70, Beta's del242-244) is one event: all or nothing.
            int j = i + 1;
            while (j < profile.Count && profile[i].Kind == SpikeMutationKind.Deletion && profile[j].Kind == SpikeMutationKind.Deletion &&
                   profile[j].Position == profile[j - 1].Position + 1)
            {
                j++;
            }
            var target = random.NextDouble() < o.MutationPresenceProbability ? present : absent;
            for (int k = i; k < j; k++) target.Add(profile[k]);
            i = j;
        }
        var sb = new StringBuilder(SpikeMutation.Apply(_catalog.Reference, present));

        int background = Poisson(random, o.BackgroundSubstitutionMean);
        for (int i = 0; i < background; i++)
        {
            int pos = random.Next(sb.Length);
            char old = sb[pos], aa;
            do aa = AminoAcids.Standard[random.Next(AminoAcids.Standard.Length)];
            while (aa == old);
            sb[pos] = aa;
        }

        int trimStart = random.NextDouble() < o.TrimProbability && o.MaxTrimPerEnd > 0 ? random.Next(1, o.MaxTrimPerEnd + 1) : 0;
        int trimEnd = random.NextDouble() < o.TrimProbability && o.MaxTrimPerEnd > 0 ? random.Next(1, o.MaxTrimPerEnd + 1) : 0;
        trimStart = Math.Min(trimStart, Math.Max(0, sb.Length - trimEnd - 1));
        string trimmed = sb.ToString(trimStart, sb.Length - trimStart - trimEnd);

        int run = 0;
        if (random.NextDouble() < o.UnknownRunProbability)
        {
            run = Math.Min(trimmed.Length, random.Next(o.MinUnknownRunLength, o.MaxUnknownRunLength + 1));
            int start = random.Next(trimmed.Length - run + 1);
            trimmed = string.Concat(trimmed.AsSpan(0, start), new string(AminoAcids.Unknown, run), trimmed.AsSpan(start + run));
        }
        return new SimulatedSpike(lineage, trimmed, present, absent, background, run, trimStart, trimEnd);
    }

    /// <summary>Simulates <paramref name="count"/> sequences of a lineage from a fresh <see cref="Random"/> seeded with <paramref name="seed"/>.</summary>
    /// <param name="lineage">Lineage name.</param>
    /// <param name="count">Number of sequences.</param>
    /// <param name="seed">Random seed; the same seed gives the same sequences.</param>
    public IReadOnlyList<SimulatedSpike> Simulate(string lineage, int count, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var random = new Random(seed);
        var result = new List<SimulatedSpike>(count);
        for (int i = 0; i < count; i++) result.Add(Simulate(lineage, random));
        return result;
    }

    /// <summary>Knuth's Poisson sampler (fine for the small means used here).</summary>
    private static int Poisson(Random random, double mean)
    {
        if (mean <= 0) return 0;
        double limit = Math.Exp(-mean), p = 1;
        int k = 0;
        do
        {
            k++;
            p *= random.NextDouble();
        }
        while (p > limit);
        return k - 1;
    }
}
