using TorchSharp;
using static TorchSharp.torch;

namespace Incrt.Training;

/// <summary>
/// Turns encoded sequences and labels into padded <see cref="SequenceBatch"/>es, grouping sequences of similar
/// length to reduce padding.
/// </summary>
/// <remarks>
/// <para>Training epochs (<see cref="Epoch"/>): the examples are shuffled, cut into buckets of
/// <c>bucketBatches × batchSize</c> consecutive examples, each bucket is sorted by length (stable) and cut into
/// batches, and finally the order of all batches is shuffled. Every example appears exactly once per epoch
/// (unless <c>dropLast</c> drops the one incomplete batch). The permutation depends only on the seed and the
/// epoch number, so runs are reproducible and an epoch can be replayed.</para>
/// <para>Evaluation (<see cref="Evaluation"/>): no shuffling; consecutive examples in input order.</para>
/// <para>Batches are built lazily, one per enumeration step, on the requested device.</para>
/// </remarks>
public sealed class LengthBucketBatcher
{
    private readonly int[][] _sequences;
    private readonly int[] _labels;

    /// <summary>Creates a batcher.</summary>
    /// <param name="sequences">Encoded sequences (each non-empty); not copied, must not be modified afterwards.</param>
    /// <param name="labels">One label per sequence.</param>
    /// <param name="batchSize">Rows per batch (the last batch of an epoch may be smaller).</param>
    /// <param name="seed">Seed for the epoch shuffles.</param>
    /// <param name="device">Device for the tensors; CPU when <c>null</c>.</param>
    /// <param name="bucketBatches">Number of batches per length-sorting bucket; 50 by default.</param>
    /// <param name="bucketByLength"><c>false</c> gives plain random batching (useful as a baseline).</param>
    /// <param name="dropLast">Drop the incomplete batch of a training epoch, if any.</param>
    public LengthBucketBatcher(IReadOnlyList<int[]> sequences, IReadOnlyList<int> labels, int batchSize, int seed,
        Device? device = null, int bucketBatches = 50, bool bucketByLength = true, bool dropLast = false)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        ArgumentNullException.ThrowIfNull(labels);
        if (sequences.Count != labels.Count)
            throw new ArgumentException($"Got {sequences.Count} sequences but {labels.Count} labels.", nameof(labels));
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(bucketBatches, 1);
        _sequences = new int[sequences.Count][];
        for (int i = 0; i < sequences.Count; i++)
        {
            var s = sequences[i] ?? throw new ArgumentException($"Sequence {i} is null.", nameof(sequences));
            if (s.Length == 0)
                throw new ArgumentException($"Sequence {i} is empty; every sequence needs at least one token (e.g. encode with addCls).", nameof(sequences));
            _sequences[i] = s;
        }
        _labels = [.. labels];
        BatchSize = batchSize;
        Seed = seed;
        Device = device ?? CPU;
        BucketBatches = bucketBatches;
        BucketByLength = bucketByLength;
        DropLast = dropLast;
    }

    /// <summary>Number of examples.</summary>
    public int Count => _sequences.Length;

    /// <summary>Rows per batch.</summary>
    public int BatchSize { get; }

    /// <summary>Seed of the epoch shuffles.</summary>
    public int Seed { get; }

    /// <summary>Device the tensors are created on.</summary>
    public Device Device { get; }

    /// <summary>Batches per length-sorting bucket.</summary>
    public int BucketBatches { get; }

    /// <summary>Whether training batches group similar lengths.</summary>
    public bool BucketByLength { get; }

    /// <summary>Whether the incomplete batch of a training epoch is dropped.</summary>
    public bool DropLast { get; }

    /// <summary>Number of batches in one training epoch.</summary>
    public int BatchesPerEpoch => DropLast ? Count / BatchSize : (Count + BatchSize - 1) / BatchSize;

    /// <summary>The example indices of every batch of training epoch <paramref name="epoch"/>, in iteration order, without building tensors.</summary>
    /// <param name="epoch">Epoch number (any integer; each gives its own permutation).</param>
    /// <returns>One index array per batch.</returns>
    public IReadOnlyList<int[]> PlanEpoch(int epoch)
    {
        var rng = SplitMix64.FromParts(Seed, epoch);
        var order = Enumerable.Range(0, Count).ToArray();
        rng.Shuffle(order);
        var batches = new List<int[]>(BatchesPerEpoch + 1);
        int bucketSize = BucketByLength ? checked(BucketBatches * BatchSize) : Math.Max(Count, 1);
        for (int start = 0; start < Count; start += bucketSize)
        {
            int len = Math.Min(bucketSize, Count - start);
            var bucket = new int[len];
            Array.Copy(order, start, bucket, 0, len);
            if (BucketByLength)
            {
                // Stable sort by length; ties keep their shuffled order.
                var rank = new int[len];
                for (int i = 0; i < len; i++) rank[i] = i;
                Array.Sort(rank, (x, y) =>
                {
                    int c = _sequences[bucket[x]].Length.CompareTo(_sequences[bucket[y]].Length);
                    return c != 0 ? c : x.CompareTo(y);
                });
                bucket = rank.Select(r => bucket[r]).ToArray();
            }
            for (int b = 0; b < len; b += BatchSize)
                batches.Add(bucket[b..Math.Min(b + BatchSize, len)]);
        }
        if (DropLast) batches.RemoveAll(b => b.Length < BatchSize);
        rng.Shuffle(batches);
        return batches;
    }

    /// <summary>The example indices of every evaluation batch: consecutive examples in input order.</summary>
    /// <returns>One index array per batch.</returns>
    public IReadOnlyList<int[]> PlanEvaluation()
    {
        var batches = new List<int[]>();
        for (int b = 0; b < Count; b += BatchSize)
            batches.Add(Enumerable.Range(b, Math.Min(BatchSize, Count - b)).ToArray());
        return batches;
    }

    /// <summary>The first <paramref name="examples"/> examples in input order (rounded up to whole evaluation batches, as
    /// <see cref="Evaluation"/> would deliver them), regrouped into batches of similar length: the same examples with far
    /// less padding than input order.</summary>
    internal IReadOnlyList<int[]> PlanFirstByLength(int examples)
    {
        int taken = Math.Min(Count, (examples + BatchSize - 1) / BatchSize * BatchSize);
        var byLength = Enumerable.Range(0, taken).OrderBy(i => _sequences[i].Length).ThenBy(i => i).ToArray();
        return byLength.Chunk(BatchSize).ToList();
    }

    /// <summary>Iterates the batches of training epoch <paramref name="epoch"/> (shuffled, length-bucketed, deterministic for the seed). Dispose each batch.</summary>
    /// <param name="epoch">Epoch number.</param>
    /// <returns>The batches, built lazily.</returns>
    public IEnumerable<SequenceBatch> Epoch(int epoch)
    {
        foreach (var indices in PlanEpoch(epoch)) yield return MakeBatch(indices);
    }

    /// <summary>Iterates evaluation batches in input order without shuffling. Dispose each batch.</summary>
    /// <returns>The batches, built lazily.</returns>
    public IEnumerable<SequenceBatch> Evaluation()
    {
        foreach (var indices in PlanEvaluation()) yield return MakeBatch(indices);
    }

    /// <summary>Total padding positions of a batch plan (Σ over batches of B·T − Σ lengths).</summary>
    /// <param name="plan">A plan from <see cref="PlanEpoch"/> or <see cref="PlanEvaluation"/>.</param>
    /// <returns>The number of padding positions.</returns>
    public long PaddingCount(IEnumerable<int[]> plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        long pad = 0;
        foreach (var batch in plan)
        {
            int max = batch.Max(i => _sequences[i].Length);
            foreach (var i in batch) pad += max - _sequences[i].Length;
        }
        return pad;
    }

    /// <summary>Builds the padded tensors for the given example indices.</summary>
    /// <param name="indices">Example indices (non-empty).</param>
    /// <returns>The batch (caller disposes).</returns>
    public SequenceBatch MakeBatch(int[] indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        if (indices.Length == 0) throw new ArgumentException("A batch needs at least one example.", nameof(indices));
        int rows = indices.Length;
        var lengths = new int[rows];
        int t = 0;
        for (int r = 0; r < rows; r++)
        {
            lengths[r] = _sequences[indices[r]].Length;
            t = Math.Max(t, lengths[r]);
        }
        var ids = new long[rows * t];
        var mask = new bool[rows * t];
        var labels = new long[rows];
        for (int r = 0; r < rows; r++)
        {
            var s = _sequences[indices[r]];
            int offset = r * t;
            for (int j = 0; j < s.Length; j++) ids[offset + j] = s[j];
            for (int j = s.Length; j < t; j++) mask[offset + j] = true; // ids already PAD = 0
            labels[r] = _labels[indices[r]];
        }
        long[] shape = [rows, t];
        var idsT = torch.tensor(ids, shape, ScalarType.Int64, Device);
        var maskT = torch.tensor(mask, shape, ScalarType.Bool, Device);
        var labelsT = torch.tensor(labels, [rows], ScalarType.Int64, Device);
        return new SequenceBatch(idsT, maskT, labelsT, (int[])indices.Clone(), lengths);
    }
}
