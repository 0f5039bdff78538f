using Incrt.Training;

namespace Incrt.Tasks.Data;

/// <summary>A planted directed relation: token <see cref="Source"/> "points to" token <see cref="Target"/>.</summary>
/// <param name="Source">Token id a_k; in a forward instance it comes first.</param>
/// <param name="Target">Token id b_k; in a forward instance it comes second.</param>
public readonly record struct PlantedRelation(int Source, int Target);

/// <summary>A generated synthetic data set: sequences, labels and per-example ground truth.</summary>
public sealed class SyntheticDataset
{
    internal SyntheticDataset(int[][] sequences, int[] labels, int[] cleanLabels, sbyte[][] orientations)
    {
        Sequences = sequences;
        Labels = labels;
        CleanLabels = cleanLabels;
        Orientations = orientations;
    }

    /// <summary>Token id sequences (with [CLS] first when the option is on), ready for <see cref="LengthBucketBatcher"/>.</summary>
    public IReadOnlyList<int[]> Sequences { get; }

    /// <summary>Observed labels (after label noise).</summary>
    public IReadOnlyList<int> Labels { get; }

    /// <summary>Labels before noise, as given by the planted structure.</summary>
    public IReadOnlyList<int> CleanLabels { get; }

    /// <summary>Per example, per relation k: +1 forward instance present, −1 reversed instance present, 0 absent.</summary>
    public IReadOnlyList<sbyte[]> Orientations { get; }

    /// <summary>Number of examples.</summary>
    public int Count => Sequences.Count;
}

/// <summary>
/// A seeded synthetic binary classification task whose only signal is the ORDER of planted token pairs, so that
/// solving it requires directed (antisymmetric) token-to-token interactions, and more planted relations require
/// more distinct interactions.
/// </summary>
/// <remarks>
/// <para><b>Construction.</b> From the seed, K ordered pairs (a_k → b_k) of distinct token types are drawn from
/// the non-special vocabulary (all 2K tokens distinct); the other non-special tokens are fillers. Token ids 0, 1, 2
/// are reserved for [PAD], [UNK], [CLS] as in <see cref="WordVocabulary"/>. A relation instance is the two tokens
/// a_k and b_k placed at two random positions p &lt; q: forward (a_k at p, b_k at q) or reversed (b_k at p,
/// a_k at q). Every other position holds a uniformly drawn filler token.</para>
/// <para><b>Labels.</b> With <see cref="SyntheticLabelRule.SingleRelation"/> a sequence holds one instance of a
/// uniformly chosen relation k plus <see cref="SyntheticTaskOptions.Decoys"/> lone tokens of other relations,
/// and the clean label is 1 iff the instance is forward. With <see cref="SyntheticLabelRule.Majority"/> every
/// relation has one instance and the label is 1 iff most are forward (orientations are fair coins conditioned on
/// the label). Clean labels are balanced exactly to <see cref="SyntheticTaskOptions.PositiveFraction"/>; then
/// each label is flipped with probability <see cref="SyntheticTaskOptions.LabelNoise"/>.</para>
/// <para><b>Why a bag-of-words model cannot solve it.</b> Which relation appears, the decoys, the fillers, the
/// length and the set of occupied positions are all drawn independently of the label; only the assignment of
/// a_k and b_k to the two positions depends on it. Swapping a_k and b_k is a probability-preserving bijection
/// between the classes that leaves the token multiset unchanged, so any function of token counts has exactly
/// chance-level (majority-class) accuracy. The signal is antisymmetric: "a_k attends to b_k earlier" differs
/// from "b_k attends to a_k earlier".</para>
/// <para><b>Why more K needs more interactions.</b> Relations use disjoint token types, so knowing the
/// direction of relation k says nothing about relation j ≠ k. Decoys (lone sources/targets of other relations)
/// break the shortcut of one generic "any source before any target" detector: it then sees conflicting evidence,
/// whereas the K relation-specific pair detectors are always right. In embedding space the ground truth is the
/// rank-K bilinear form M = Σ_k e(a_k) e(b_k)ᵀ over the generator's token vectors
/// (<see cref="InteractionMatrix"/>), whose antisymmetric part (M − Mᵀ)/2 has rank 2K when 2K ≤ dModel: a
/// single head with a d_h-dimensional query/key space cannot represent more than d_h of the K pairs, so the
/// number of heads (or head width) an incremental model needs grows with K.</para>
/// </remarks>
public sealed class SyntheticDirectedTask
{
    private readonly PlantedRelation[] _relations;
    private readonly int[] _fillers;
    private readonly float[,] _vectors;
    private readonly Dictionary<int, (int Relation, bool IsSource)> _roleOf = [];

    /// <summary>Creates the task: validates the options and draws the relations and token vectors from <see cref="SyntheticTaskOptions.Seed"/>.</summary>
    /// <param name="options">The options.</param>
    public SyntheticDirectedTask(SyntheticTaskOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        var rng = SplitMix64.FromParts(options.Seed, 0x5EED);
        var pool = Enumerable.Range(3, options.VocabularySize - 3).ToArray();
        rng.Shuffle(pool);
        _relations = new PlantedRelation[options.Relations];
        for (int k = 0; k < options.Relations; k++)
        {
            _relations[k] = new PlantedRelation(pool[2 * k], pool[2 * k + 1]);
            _roleOf[pool[2 * k]] = (k, true);
            _roleOf[pool[2 * k + 1]] = (k, false);
        }
        _fillers = pool[(2 * options.Relations)..];
        Array.Sort(_fillers);
        _vectors = new float[options.VocabularySize, options.DModel];
        double scale = 1.0 / Math.Sqrt(options.DModel);
        for (int t = 0; t < options.VocabularySize; t++)
            for (int d = 0; d < options.DModel; d++)
                _vectors[t, d] = (float)(rng.NextGaussian() * scale);
    }

    /// <summary>The options (validated).</summary>
    public SyntheticTaskOptions Options { get; }

    /// <summary>The K planted relations (ground truth).</summary>
    public IReadOnlyList<PlantedRelation> Relations => _relations;

    /// <summary>The filler token ids (every non-special token that belongs to no relation), ascending.</summary>
    public IReadOnlyList<int> FillerTokens => _fillers;

    /// <summary>The generator's token vectors, shape (V, dModel), entries N(0, 1/dModel). A copy.</summary>
    public float[,] TokenVectors => (float[,])_vectors.Clone();

    /// <summary>Ground-truth directed interaction in embedding space: M = Σ_k e(a_k) e(b_k)ᵀ, shape (dModel, dModel). Generally M ≠ Mᵀ.</summary>
    /// <returns>A new matrix.</returns>
    public float[,] InteractionMatrix()
    {
        int d = Options.DModel;
        var m = new float[d, d];
        foreach (var (a, b) in _relations)
            for (int i = 0; i < d; i++)
                for (int j = 0; j < d; j++)
                    m[i, j] += _vectors[a, i] * _vectors[b, j];
        return m;
    }

    /// <summary>Generates <paramref name="count"/> examples. Different split seeds give independent sets over the same planted relations.</summary>
    /// <param name="count">Number of examples (at least 1).</param>
    /// <param name="splitSeed">Seed of this set (e.g. 1 for train, 2 for dev).</param>
    /// <returns>The data set.</returns>
    public SyntheticDataset Generate(int count, int splitSeed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var o = Options;
        var rng = SplitMix64.FromParts(o.Seed, splitSeed, 0xDA7A);
        int k = o.Relations;
        int positives = (int)Math.Round(o.PositiveFraction * count, MidpointRounding.ToEven);
        var clean = new int[count];
        for (int i = 0; i < positives; i++) clean[i] = 1;
        rng.Shuffle(clean);

        var sequences = new int[count][];
        var labels = new int[count];
        var orientations = new sbyte[count][];
        int minLen = o.MinSequenceLength ?? o.SequenceLength;
        int offset = o.AddCls ? 1 : 0;
        var others = new List<int>(k);
        for (int n = 0; n < count; n++)
        {
            int length = minLen + rng.NextInt(o.SequenceLength - minLen + 1);
            var seq = new int[length + offset];
            if (o.AddCls) seq[0] = WordVocabulary.ClsId;
            var positions = Enumerable.Range(offset, length).ToArray();
            rng.Shuffle(positions); // the first PlantedTokens entries are the planted positions
            var orient = new sbyte[k];
            if (o.Rule == SyntheticLabelRule.SingleRelation)
            {
                int r = rng.NextInt(k);
                orient[r] = (sbyte)(clean[n] == 1 ? 1 : -1);
                Place(seq, _relations[r], positions[0], positions[1], clean[n] == 1);
                others.Clear();
                for (int j = 0; j < k; j++) if (j != r) others.Add(j);
                rng.Shuffle(others);
                for (int d = 0; d < o.EffectiveDecoys; d++)
                {
                    var rel = _relations[others[d]];
                    seq[positions[2 + d]] = rng.NextInt(2) == 0 ? rel.Source : rel.Target;
                }
            }
            else
            {
                int forward;
                do
                {
                    forward = 0;
                    for (int j = 0; j < k; j++)
                    {
                        orient[j] = (sbyte)(rng.NextInt(2) == 0 ? 1 : -1);
                        if (orient[j] > 0) forward++;
                    }
                } while ((2 * forward > k ? 1 : 0) != clean[n]);
                for (int j = 0; j < k; j++)
                    Place(seq, _relations[j], positions[2 * j], positions[2 * j + 1], orient[j] > 0);
            }
            for (int p = o.PlantedTokens; p < length; p++)
                seq[positions[p]] = _fillers[rng.NextInt(_fillers.Length)];
            sequences[n] = seq;
            orientations[n] = orient;
            labels[n] = rng.NextDouble() < o.LabelNoise ? 1 - clean[n] : clean[n];
        }
        return new SyntheticDataset(sequences, labels, clean, orientations);
    }

    private static void Place(int[] seq, PlantedRelation rel, int p1, int p2, bool forward)
    {
        int first = Math.Min(p1, p2), second = Math.Max(p1, p2);
        seq[first] = forward ? rel.Source : rel.Target;
        seq[second] = forward ? rel.Target : rel.Source;
    }

    /// <summary>
    /// Recomputes the clean label of any sequence from the planted structure: a relation counts when both its
    /// tokens occur exactly once (forward iff the source comes first); then the task's rule is applied.
    /// </summary>
    /// <param name="sequence">A token id sequence (e.g. a generated one, possibly edited).</param>
    /// <returns>The label 0 or 1.</returns>
    /// <exception cref="ArgumentException">The sequence does not contain the complete relation instance(s) the rule needs.</exception>
    public int CleanLabelOf(IReadOnlyList<int> sequence)
    {
        ArgumentNullException.ThrowIfNull(sequence);
        int k = Options.Relations;
        var sourcePos = new int[k];
        var targetPos = new int[k];
        var sourceCount = new int[k];
        var targetCount = new int[k];
        for (int i = 0; i < sequence.Count; i++)
        {
            if (!_roleOf.TryGetValue(sequence[i], out var role)) continue;
            if (role.IsSource) { sourcePos[role.Relation] = i; sourceCount[role.Relation]++; }
            else { targetPos[role.Relation] = i; targetCount[role.Relation]++; }
        }
        int complete = 0, forward = 0;
        for (int j = 0; j < k; j++)
        {
            if (sourceCount[j] != 1 || targetCount[j] != 1) continue;
            complete++;
            if (sourcePos[j] < targetPos[j]) forward++;
        }
        if (Options.Rule == SyntheticLabelRule.SingleRelation)
        {
            if (complete != 1) throw new ArgumentException($"Expected exactly one complete relation instance, found {complete}.", nameof(sequence));
            return forward;
        }
        if (complete != k) throw new ArgumentException($"Expected all {k} relation instances, found {complete}.", nameof(sequence));
        return 2 * forward > k ? 1 : 0;
    }
}
