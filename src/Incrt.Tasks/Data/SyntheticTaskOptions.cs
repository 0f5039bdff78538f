namespace Incrt.Tasks.Data;

/// <summary>How a synthetic sequence's clean label is derived from its planted relation instances.</summary>
public enum SyntheticLabelRule
{
    /// <summary>
    /// Each sequence holds one instance of one relation k (chosen uniformly, independent of the label), plus
    /// decoys; label 1 iff its source token a_k comes before its target token b_k. A model must know the
    /// direction of every one of the K relations to be always right.
    /// </summary>
    SingleRelation,

    /// <summary>
    /// Each sequence holds one instance of every relation (K must be odd); label 1 iff the majority of them are
    /// in forward order. A model must read all K directed interactions in the same sequence.
    /// </summary>
    Majority,
}

/// <summary>Options of <see cref="SyntheticDirectedTask"/>. All defaults give a small, balanced, noise-free task.</summary>
public sealed record SyntheticTaskOptions
{
    /// <summary>K, the number of planted directed relations a_k → b_k (at least 1; odd for <see cref="SyntheticLabelRule.Majority"/>).</summary>
    public int Relations { get; init; } = 4;

    /// <summary>Dimension of the generator's own token vectors (<see cref="SyntheticDirectedTask.TokenVectors"/>), used for the ground-truth interaction matrix.</summary>
    public int DModel { get; init; } = 32;

    /// <summary>Vocabulary size V including the three specials [PAD]=0, [UNK]=1, [CLS]=2; must leave at least one filler token after the 2K relation tokens.</summary>
    public int VocabularySize { get; init; } = 64;

    /// <summary>Maximum number of content tokens per sequence ([CLS] not counted).</summary>
    public int SequenceLength { get; init; } = 24;

    /// <summary>Minimum number of content tokens; lengths are uniform in [min, <see cref="SequenceLength"/>]. <c>null</c> means fixed length.</summary>
    public int? MinSequenceLength { get; init; }

    /// <summary>Probability that a label is flipped after generation (0 ≤ noise &lt; 0.5). The clean label is kept in <see cref="SyntheticDataset.CleanLabels"/>.</summary>
    public double LabelNoise { get; init; }

    /// <summary>Fraction of clean labels equal to 1 (strictly between 0 and 1). Met exactly (up to rounding) per generated set; after label noise the expected fraction is p(1−η)+(1−p)η.</summary>
    public double PositiveFraction { get; init; } = 0.5;

    /// <summary>
    /// Decoys per sequence for <see cref="SyntheticLabelRule.SingleRelation"/>: lone source or target tokens of
    /// other relations (never both tokens of one relation), at most K−1 are used. They defeat a single generic
    /// "some source before some target" detector, forcing relation-specific interactions. Ignored by
    /// <see cref="SyntheticLabelRule.Majority"/>, where all relations are present anyway.
    /// </summary>
    public int Decoys { get; init; } = 2;

    /// <summary>The labelling rule.</summary>
    public SyntheticLabelRule Rule { get; init; } = SyntheticLabelRule.SingleRelation;

    /// <summary>Whether sequences start with [CLS] (id 2).</summary>
    public bool AddCls { get; init; } = true;

    /// <summary>Seed for the planted relations and the token vectors (data sets get their own split seed).</summary>
    public int Seed { get; init; }

    /// <summary>The expected fraction of observed (possibly flipped) labels equal to 1: p(1−η)+(1−p)η.</summary>
    public double ExpectedObservedPositiveFraction => PositiveFraction * (1 - LabelNoise) + (1 - PositiveFraction) * LabelNoise;

    /// <summary>Number of decoys actually placed per sequence.</summary>
    public int EffectiveDecoys => Rule == SyntheticLabelRule.SingleRelation ? Math.Min(Decoys, Relations - 1) : 0;

    /// <summary>Number of positions taken by relation and decoy tokens.</summary>
    internal int PlantedTokens => Rule == SyntheticLabelRule.SingleRelation ? 2 + EffectiveDecoys : 2 * Relations;

    /// <summary>Checks all constraints and throws <see cref="ArgumentException"/> naming the first violated one.</summary>
    public void Validate()
    {
        if (Relations < 1) throw new ArgumentException($"{nameof(Relations)} must be at least 1 (got {Relations}).");
        if (Rule == SyntheticLabelRule.Majority && Relations % 2 == 0)
            throw new ArgumentException($"The Majority rule needs an odd number of relations (got {Relations}) so that there are no ties.");
        if (DModel < 1) throw new ArgumentException($"{nameof(DModel)} must be at least 1 (got {DModel}).");
        if (VocabularySize < 3 + 2 * Relations + 1)
            throw new ArgumentException($"{nameof(VocabularySize)} {VocabularySize} is too small: need 3 specials + {2 * Relations} relation tokens + at least 1 filler token.");
        if (Decoys < 0) throw new ArgumentException($"{nameof(Decoys)} must be non-negative (got {Decoys}).");
        int min = MinSequenceLength ?? SequenceLength;
        if (min > SequenceLength) throw new ArgumentException($"{nameof(MinSequenceLength)} {min} exceeds {nameof(SequenceLength)} {SequenceLength}.");
        if (min < PlantedTokens)
            throw new ArgumentException($"Sequences of {min} tokens cannot hold the {PlantedTokens} planted relation/decoy tokens.");
        if (!(LabelNoise >= 0 && LabelNoise < 0.5)) throw new ArgumentException($"{nameof(LabelNoise)} must be in [0, 0.5) (got {LabelNoise}).");
        if (!(PositiveFraction > 0 && PositiveFraction < 1)) throw new ArgumentException($"{nameof(PositiveFraction)} must be in (0, 1) (got {PositiveFraction}).");
    }
}
