using Incrt.Training;

namespace Incrt.Tasks.Planted;

/// <summary>
/// Segment retrieval ("find the value in region j"): the <see cref="PlantedTaskOptions.Length"/> positions after [CLS]
/// are cut into K consecutive segments of ⌊Length / K⌋ positions (the remainder, at the end, holds fillers only). Each
/// segment holds one value token, uniform over <see cref="PlantedTaskOptions.Values"/>, at a random position; every
/// other position holds a filler token. Read-out j must output the value in segment j.
/// </summary>
/// <remarks>
/// Unlike offset retrieval the head cannot address a fixed position: it must combine content (value token, not
/// filler) with position (inside segment j). The value code is shared by all segments and the attention weights do not
/// depend on the values, so a head that covers two segments mixes two tokens in one d_v-dimensional code and loses them
/// (see <see cref="PlantedTask"/>): K heads are needed. Segments must hold at least 2 positions (K ≤ Length / 2); with
/// one position per segment this would be offset retrieval.
/// Two content-addressed designs were tried first and rejected because fewer than K heads solved them (docs/theory.md
/// §8): one token per (key, value) pair — each key's values get their own subspace of a head — and "where is marker j"
/// — the attention weights and the returned code both depend on the positions.
/// </remarks>
public sealed class SegmentRetrievalTask : PlantedTask
{
    private const int FirstFillerId = ClsId + 1;

    /// <summary>Creates the task.</summary>
    public SegmentRetrievalTask(PlantedTaskOptions options) : base(options) { }

    /// <summary>Positions per segment, ⌊Length / K⌋.</summary>
    public int SegmentLength => Options.Length / Options.K;

    private int FirstValueId => FirstFillerId + Options.Fillers;

    /// <inheritdoc />
    public override int VocabularySize => FirstValueId + Options.Values;

    /// <summary>The token id of value <paramref name="value"/>.</summary>
    public int TokenOf(int value)
    {
        if (value < 0 || value >= Options.Values) throw new ArgumentOutOfRangeException(nameof(value), value, $"value must be in [0, Values = {Options.Values}).");
        return FirstValueId + value;
    }

    /// <summary>The token id of filler <paramref name="filler"/>.</summary>
    public int FillerOf(int filler)
    {
        if (filler < 0 || filler >= Options.Fillers) throw new ArgumentOutOfRangeException(nameof(filler), filler, $"filler must be in [0, Fillers = {Options.Fillers}).");
        return FirstFillerId + filler;
    }

    private protected override void Fill(SplitMix64 rng, Span<long> tokens, Span<long> labels)
    {
        for (int p = 0; p < tokens.Length; p++) tokens[p] = FirstFillerId + rng.NextInt(Options.Fillers);
        int size = SegmentLength;
        for (int j = 0; j < Options.K; j++)
        {
            int value = rng.NextInt(Options.Values);
            tokens[j * size + rng.NextInt(size)] = FirstValueId + value;
            labels[j] = value;
        }
    }

    private protected override int[] Read(IReadOnlyList<int> sequence)
    {
        var labels = Enumerable.Repeat(-1, Options.K).ToArray();
        int size = SegmentLength;
        for (int p = 1; p < sequence.Count; p++)
        {
            if (sequence[p] < FirstValueId) continue; // filler
            int segment = (p - 1) / size;
            if (segment >= Options.K) throw new ArgumentException($"value token at position {p} lies after the last segment (positions 1 … {Options.K * size}).", nameof(sequence));
            if (labels[segment] >= 0) throw new ArgumentException($"segment {segment} holds two value tokens (second at position {p}); each segment holds one.", nameof(sequence));
            labels[segment] = sequence[p] - FirstValueId;
        }
        int missing = Array.IndexOf(labels, -1);
        if (missing >= 0) throw new ArgumentException($"segment {missing} holds no value token; each segment holds one.", nameof(sequence));
        return labels;
    }
}
