using Incrt.Training;

namespace Incrt.Tasks.Planted;

/// <summary>
/// A task with a planted minimal head count: every sequence is <c>[CLS] t₁ … t_L</c> and the model must output K
/// tokens from it, each through its own <see cref="PlantedTaskOptions.Values"/>-way read-out at the [CLS] slot.
/// Token id 0 is padding (never produced), 1 is [CLS].
/// </summary>
/// <remarks>
/// The head count a single attention layer needs by construction is K (<see cref="Outputs"/>).
/// Why one attention layer needs K heads (docs/theory.md §8): a softmax head returns a convex mix of value vectors of
/// width d_v. A head that puts weight on two relevant positions returns a·v(x) + b·v(y) in d_v dimensions; with d_v
/// small against the number of values (the defaults: d_v = 4, 64 values, so 4,096 pairs) a linear read-out cannot
/// recover both tokens from it, so each read-out needs a head of its own. Two conditions matter, both measured
/// (docs/theory.md §8): the read-out must be linear in the heads' outputs (no LayerNorm between them: use pre-norm
/// blocks), and the number of values must be large against d_v (the weights a and b may depend on the tokens, since
/// the keys see content, which lets a head carry part of a second token). The knee is measured, not assumed
/// (samples/Incrt.Planted).
/// </remarks>
public abstract class PlantedTask
{
    /// <summary>Validates <paramref name="options"/> and keeps them.</summary>
    private protected PlantedTask(PlantedTaskOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
    }

    /// <summary>The [CLS] token id (the query slot at position 0).</summary>
    public const int ClsId = 1;

    /// <summary>The settings.</summary>
    public PlantedTaskOptions Options { get; }

    /// <summary>Read-outs per example (K).</summary>
    public int Outputs => Options.K;

    /// <summary>Classes per read-out.</summary>
    public int Classes => Options.Values;

    /// <summary>Tokens per sequence, [CLS] included (<see cref="PlantedTaskOptions.Length"/> + 1).</summary>
    public int SequenceLength => Options.Length + 1;

    /// <summary>Number of token ids the embedding needs (padding and [CLS] included).</summary>
    public abstract int VocabularySize { get; }

    /// <summary>The task for <paramref name="options"/>'s family.</summary>
    public static PlantedTask Create(PlantedTaskOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Family switch
        {
            PlantedFamily.OffsetRetrieval => new OffsetRetrievalTask(options),
            PlantedFamily.SegmentRetrieval => new SegmentRetrievalTask(options),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Family, "Unknown planted family."),
        };
    }

    /// <summary>Draws <paramref name="count"/> examples; the same (task seed, <paramref name="splitSeed"/>) gives the
    /// same examples, different split seeds give independent ones.</summary>
    public PlantedDataset Generate(int count, long splitSeed)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "count must be at least 1.");
        int t = SequenceLength, k = Outputs;
        var ids = new long[count * t];
        var labels = new long[count * k];
        var rng = SplitMix64.FromParts(Options.Seed, (long)Options.Family, k, Options.Length, splitSeed);
        for (int i = 0; i < count; i++)
        {
            var row = ids.AsSpan(i * t, t);
            row[0] = ClsId;
            Fill(rng, row[1..], labels.AsSpan(i * k, k));
        }
        return new PlantedDataset(ids, labels, count, t, k);
    }

    /// <summary>The K labels of a hand-made sequence (<c>[CLS]</c> first), computed from the task's definition.</summary>
    /// <exception cref="ArgumentException">The sequence has the wrong length, does not start with [CLS], or holds a
    /// token the task cannot produce.</exception>
    public int[] LabelsOf(IReadOnlyList<int> sequence)
    {
        ArgumentNullException.ThrowIfNull(sequence);
        if (sequence.Count != SequenceLength)
            throw new ArgumentException($"sequence must have {SequenceLength} tokens ([CLS] + Length = {Options.Length}); got {sequence.Count}.", nameof(sequence));
        if (sequence[0] != ClsId) throw new ArgumentException($"sequence must start with [CLS] (id {ClsId}); got {sequence[0]}.", nameof(sequence));
        for (int p = 1; p < sequence.Count; p++)
            if (sequence[p] <= ClsId || sequence[p] >= VocabularySize)
                throw new ArgumentException($"token {sequence[p]} at position {p} is not a content token of this task (ids {ClsId + 1}..{VocabularySize - 1}).", nameof(sequence));
        return Read(sequence);
    }

    /// <summary>Fills the <see cref="PlantedTaskOptions.Length"/> tokens after [CLS] and the K labels.</summary>
    private protected abstract void Fill(SplitMix64 rng, Span<long> tokens, Span<long> labels);

    /// <summary>The labels of a validated sequence ([CLS] first).</summary>
    private protected abstract int[] Read(IReadOnlyList<int> sequence);
}
