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

    /// <summary>Labels, shape (B), <c>int64</c>.</summary>
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
