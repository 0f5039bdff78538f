using TorchSharp;
using static TorchSharp.torch;

namespace Incrt.Attention;

/// <summary>Head masking: the probe the loss-aware controller rules use (docs/algorithm.md §6).</summary>
public sealed partial class GrowableMultiHeadAttention
{
    private bool[]? _masked;   // heads zeroed by MaskHeads; a plain array, so never registered as a buffer

    /// <summary>
    /// Zeroes the outputs of the heads at <paramref name="indices"/> in <see cref="forward(Tensor, Tensor?)"/> until the
    /// returned scope is disposed: a masking probe ("what does the loss do without these heads?", Michel et al. 2019)
    /// that leaves every parameter untouched. Scopes do not nest; the head count must not change while one is open.
    /// </summary>
    /// <exception cref="ArgumentException">An index out of range.</exception>
    /// <exception cref="InvalidOperationException">Heads are already masked.</exception>
    public IDisposable MaskHeads(IReadOnlyCollection<int> indices)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(indices);
        if (_masked is not null) throw new InvalidOperationException("Heads are already masked; dispose the open MaskHeads scope first.");
        var masked = new bool[HeadCount];
        foreach (int i in indices)
        {
            if (i < 0 || i >= HeadCount)
                throw new ArgumentException($"Head index {i} is out of range; the layer has {HeadCount} heads.", nameof(indices));
            masked[i] = true;
        }
        _masked = masked;
        return new MaskScope(this);
    }

    /// <summary>Whether a <see cref="MaskHeads"/> scope is open.</summary>
    public bool HasMaskedHeads => _masked is not null;

    private Tensor MaskTensor(Tensor heads)
    {
        if (_masked!.Length != heads.shape[1])
            throw new InvalidOperationException($"The head count changed from {_masked.Length} to {heads.shape[1]} while heads were masked.");
        return tensor(_masked.Select(m => m ? 0f : 1f).ToArray(), heads.dtype, heads.device).view(1, -1, 1, 1);
    }

    private sealed class MaskScope(GrowableMultiHeadAttention layer) : IDisposable
    {
        public void Dispose() => layer._masked = null;
    }
}
