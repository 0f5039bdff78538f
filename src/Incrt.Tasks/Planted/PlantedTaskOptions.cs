namespace Incrt.Tasks.Planted;

/// <summary>
/// Settings of a planted task. Both families read K tokens from a sequence of <see cref="Length"/> random tokens into
/// K read-outs (docs/theory.md §8).
/// </summary>
public sealed record PlantedTaskOptions
{
    /// <summary>The family.</summary>
    public PlantedFamily Family { get; init; } = PlantedFamily.OffsetRetrieval;

    /// <summary>Number of tokens to retrieve (= read-outs = the minimal head count by construction). 1 ≤ K ≤
    /// <see cref="Length"/>.</summary>
    public int K { get; init; } = 2;

    /// <summary>Number of distinct values a retrieved token can take (classes per read-out). Default 64: more than a head
    /// of width 4 can carry for two tokens at once through a linear read-out, so one head cannot serve two read-outs
    /// (docs/theory.md §8 measures where this holds).</summary>
    public int Values { get; init; } = 64;

    /// <summary>Number of random tokens after the [CLS] query slot. Default 12.</summary>
    public int Length { get; init; } = 12;

    /// <summary>Segment retrieval only: number of distinct filler tokens on the positions that hold no value.</summary>
    public int Fillers { get; init; } = 16;

    /// <summary>Seed of the task itself (offsets); the examples are drawn from it and a split seed.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>The largest K the construction allows: one position per read-out for offset retrieval, segments of at
    /// least two positions for segment retrieval.</summary>
    public int MaxK => Family == PlantedFamily.SegmentRetrieval ? Length / 2 : Length;

    /// <summary>Throws an <see cref="ArgumentOutOfRangeException"/> whose parameter name is the invalid property.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Family)) throw new ArgumentOutOfRangeException(nameof(Family), Family, "Family must be OffsetRetrieval or SegmentRetrieval.");
        if (Length < 1) throw new ArgumentOutOfRangeException(nameof(Length), Length, "Length must be at least 1 token.");
        if (K < 1) throw new ArgumentOutOfRangeException(nameof(K), K, "K must be at least 1.");
        if (K > MaxK)
            throw new ArgumentOutOfRangeException(nameof(K), K,
                $"K = {K} does not fit Length = {Length}: {(Family == PlantedFamily.SegmentRetrieval ? "segment retrieval needs segments of at least 2 positions" : "offset retrieval needs K distinct positions")}, so K must be at most {MaxK}.");
        if (Values < 2) throw new ArgumentOutOfRangeException(nameof(Values), Values, "Values must be at least 2.");
        if (Fillers < 1) throw new ArgumentOutOfRangeException(nameof(Fillers), Fillers, "Fillers must be at least 1.");
    }
}
