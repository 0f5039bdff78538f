using Incrt.Data;

namespace Incrt.Tasks.Planted;

/// <summary>
/// Marker location ("what → where", the mirror of offset retrieval): each sequence holds the K marker tokens
/// m₀ … m_{K−1} once each, at random distinct positions, among uniform filler tokens; read-out j must output the
/// position (1 … Length, as class 0 … Length−1) of marker j. A head finds its marker by content; what it returns is
/// the marker's position embedding, a code shared by all markers, so a head that attends to two markers mixes two
/// positions in the same d_v-dimensional code and loses both (see <see cref="PlantedTask"/>): K heads are needed.
/// </summary>
/// <remarks>Why not "the value bound to key j" with one token per (key, value) pair: every pair token has its own
/// embedding, so the model can give each key's values their own subspace of a head's value space and carry two keys
/// in one head of width 4 — measured: 7 heads solved 8 such keys (0.977) with 32 values.</remarks>
public sealed class MarkerLocationTask : PlantedTask
{
    private const int FirstMarkerId = ClsId + 1;

    /// <summary>Creates the task.</summary>
    public MarkerLocationTask(PlantedTaskOptions options) : base(options) { }

    private int FirstFillerId => FirstMarkerId + Options.K;

    /// <inheritdoc />
    public override int Classes => Options.Length;

    /// <inheritdoc />
    public override int VocabularySize => FirstFillerId + Options.Fillers;

    /// <summary>The token id of marker <paramref name="marker"/> (0 … K−1).</summary>
    public int MarkerOf(int marker)
    {
        if (marker < 0 || marker >= Options.K) throw new ArgumentOutOfRangeException(nameof(marker), marker, $"marker must be in [0, K = {Options.K}).");
        return FirstMarkerId + marker;
    }

    /// <summary>The token id of filler <paramref name="filler"/> (0 … Fillers−1).</summary>
    public int FillerOf(int filler)
    {
        if (filler < 0 || filler >= Options.Fillers) throw new ArgumentOutOfRangeException(nameof(filler), filler, $"filler must be in [0, Fillers = {Options.Fillers}).");
        return FirstFillerId + filler;
    }

    private protected override void Fill(SplitMix64 rng, Span<long> tokens, Span<long> labels)
    {
        for (int p = 0; p < tokens.Length; p++) tokens[p] = FirstFillerId + rng.NextInt(Options.Fillers);
        // K distinct positions: a partial Fisher–Yates shuffle of 0 … Length−1.
        Span<int> positions = stackalloc int[tokens.Length];
        for (int p = 0; p < positions.Length; p++) positions[p] = p;
        for (int j = 0; j < Options.K; j++)
        {
            int swap = j + rng.NextInt(positions.Length - j);
            (positions[j], positions[swap]) = (positions[swap], positions[j]);
            tokens[positions[j]] = FirstMarkerId + j;
            labels[j] = positions[j];
        }
    }

    private protected override int[] Read(IReadOnlyList<int> sequence)
    {
        var labels = Enumerable.Repeat(-1, Options.K).ToArray();
        for (int p = 1; p < sequence.Count; p++)
        {
            int marker = sequence[p] - FirstMarkerId;
            if (marker >= Options.K) continue; // filler
            if (labels[marker] >= 0) throw new ArgumentException($"marker {marker} appears twice (second time at position {p}); each marker appears once.", nameof(sequence));
            labels[marker] = p - 1;
        }
        int missing = Array.IndexOf(labels, -1);
        if (missing >= 0) throw new ArgumentException($"marker {missing} does not appear in the sequence; each marker appears once.", nameof(sequence));
        return labels;
    }
}
