using Incrt.Training;

namespace Incrt.Tasks.Planted;

/// <summary>
/// Offset retrieval: <c>[CLS] t₁ … t_L</c> with every tᵢ uniform over <see cref="PlantedTaskOptions.Values"/> tokens;
/// read-out j must output the token at position <c>Offsets[j]</c> (relative to the [CLS] query at position 0). The K
/// offsets are distinct and fixed by the task seed. Each head can address one position through the position
/// embeddings; a head that mixes two positions loses both tokens (see <see cref="PlantedTask"/>), so K heads are needed.
/// </summary>
public sealed class OffsetRetrievalTask : PlantedTask
{
    private const int FirstValueId = ClsId + 1;
    private readonly int[] _offsets;

    /// <summary>Creates the task; the offsets are a seeded random K-subset of 1 … Length, ascending.</summary>
    public OffsetRetrievalTask(PlantedTaskOptions options) : base(options)
    {
        var positions = Enumerable.Range(1, options.Length).ToArray();
        SplitMix64.FromParts(options.Seed, 0x0FF5E7, options.K, options.Length).Shuffle(positions);
        _offsets = positions.Take(options.K).Order().ToArray();
    }

    /// <summary>The K positions (1 … Length) whose tokens the read-outs return, ascending; read-out j returns the
    /// token at <c>Offsets[j]</c>.</summary>
    public IReadOnlyList<int> Offsets => _offsets;

    /// <inheritdoc />
    public override int VocabularySize => FirstValueId + Options.Values;

    /// <summary>The token id of value <paramref name="value"/>.</summary>
    public static int TokenOf(int value) => FirstValueId + value;

    private protected override void Fill(SplitMix64 rng, Span<long> tokens, Span<long> labels)
    {
        for (int p = 0; p < tokens.Length; p++) tokens[p] = FirstValueId + rng.NextInt(Options.Values);
        for (int j = 0; j < _offsets.Length; j++) labels[j] = tokens[_offsets[j] - 1] - FirstValueId;
    }

    private protected override int[] Read(IReadOnlyList<int> sequence) =>
        _offsets.Select(o => sequence[o] - FirstValueId).ToArray();
}
