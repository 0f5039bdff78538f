using TorchSharp;
using static TorchSharp.torch;

namespace Incrt.Training;

/// <summary>
/// One padded mini-batch of token sequences. Owns its tensors: dispose it when done (e.g. <c>using var batch</c>
/// inside the <c>foreach</c>).
/// </summary>
/// <remarks>
/// The tensors are created in whatever <see cref="DisposeScope"/> is current when the batch is produced, so a
/// per-step <c>torch.NewDisposeScope()</c> also frees them; disposing twice is harmless.
/// </remarks>
public sealed class SequenceBatch : IDisposable
{
    /// <summary>
    /// A batch of your own: <paramref name="ids"/> (B, T) int64, <paramref name="labels"/> (B) or (B, K) int64, and an
    /// optional key-padding mask (B, T) bool (true = padding; null = no padding, an all-false mask is made). Rows are
    /// numbered 0…B−1; lengths count the non-padding positions. The batch takes ownership of the tensors.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes or dtypes that do not fit together.</exception>
    public SequenceBatch(Tensor ids, Tensor labels, Tensor? keyPaddingMask = null)
        : this(Checked(ids, labels, keyPaddingMask), keyPaddingMask ?? zeros(ids.shape, ScalarType.Bool, ids.device), labels,
            Enumerable.Range(0, (int)ids.shape[0]).ToArray(), UnpaddedLengths(ids, keyPaddingMask))
    {
    }

    private static Tensor Checked(Tensor ids, Tensor labels, Tensor? mask)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(labels);
        if (ids.dim() != 2 || ids.dtype != ScalarType.Int64)
            throw new ArgumentException($"ids must be (B, T) int64; got {ids.dtype} of shape ({string.Join(", ", ids.shape)}).", nameof(ids));
        if (labels.dim() is < 1 or > 2 || labels.shape[0] != ids.shape[0] || labels.dtype != ScalarType.Int64)
            throw new ArgumentException($"labels must be (B) or (B, K) int64 with B = {ids.shape[0]}; got {labels.dtype} of shape ({string.Join(", ", labels.shape)}).", nameof(labels));
        if (mask is not null && (mask.dtype != ScalarType.Bool || !mask.shape.SequenceEqual(ids.shape)))
            throw new ArgumentException($"keyPaddingMask must be bool of the ids' shape ({string.Join(", ", ids.shape)}); got {mask.dtype} of shape ({string.Join(", ", mask.shape)}).", "keyPaddingMask");
        return ids;
    }

    private static int[] UnpaddedLengths(Tensor ids, Tensor? mask)
    {
        if (mask is null) return Enumerable.Repeat((int)ids.shape[1], (int)ids.shape[0]).ToArray();
        using var counts = mask.logical_not().sum(dim: 1).cpu();
        return counts.data<long>().Select(c => (int)c).ToArray();
    }

    internal SequenceBatch(Tensor ids, Tensor keyPaddingMask, Tensor labels, int[] indices, int[] lengths)
    {
        Ids = ids;
        KeyPaddingMask = keyPaddingMask;
        Labels = labels;
        Indices = indices;
        Lengths = lengths;
    }

    /// <summary>Token ids, shape (B, T), <c>int64</c>; positions past a sequence's length hold 0 (the padding id).</summary>
    public Tensor Ids { get; }

    /// <summary>Key padding mask, shape (B, T), <c>bool</c>: <c>true</c> marks padding (to be ignored by attention).</summary>
    public Tensor KeyPaddingMask { get; }

    /// <summary>Labels, shape (B) — or (B, K) for a model with K read-outs — <c>int64</c>.</summary>
    public Tensor Labels { get; }

    /// <summary>For each row, the index of the example in the batcher's input lists.</summary>
    public IReadOnlyList<int> Indices { get; }

    /// <summary>For each row, the unpadded sequence length.</summary>
    public IReadOnlyList<int> Lengths { get; }

    /// <summary>Number of rows B.</summary>
    public int Size => Indices.Count;

    /// <summary>Padded length T (the longest sequence in the batch).</summary>
    public int PaddedLength => (int)Ids.shape[1];

    /// <summary>Number of padding positions in the batch, B·T − Σ lengths.</summary>
    public long PaddingCount => (long)Size * PaddedLength - Lengths.Sum(l => (long)l);

    /// <summary>Disposes the three tensors.</summary>
    public void Dispose()
    {
        Ids.Dispose();
        KeyPaddingMask.Dispose();
        Labels.Dispose();
    }
}
