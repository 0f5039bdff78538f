using TorchSharp;
using static TorchSharp.torch;

namespace Incrt.Attention;

/// <summary>Head masking: the probe the loss-aware controller rules use (docs/algorithm.md §8).</summary>
public sealed partial class GrowableMultiHeadAttention
{
    private int[]? _maskCount;   // per head: open MaskHeads scopes that mask it; a plain array, so never a buffer
    private int _openScopes;

    /// <summary>
    /// Zeroes the outputs of the heads at <paramref name="indices"/> in <see cref="forward(Tensor, Tensor?)"/> until the
    /// returned scope is disposed: a masking probe ("what does the loss do without these heads?", Michel et al. 2019), or
    /// a removal trial that trains the other heads without one. Parameters are untouched. Scopes may overlap (a head
    /// stays masked while any scope masks it); heads may be appended while a scope is open, but not removed.
    /// </summary>
    /// <exception cref="ArgumentException">An index out of range.</exception>
    public IDisposable MaskHeads(IReadOnlyCollection<int> indices)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(indices);
        var set = indices.Distinct().ToArray();
        foreach (int i in set)
            if (i < 0 || i >= HeadCount)
                throw new ArgumentException($"Head index {i} is out of range; the layer has {HeadCount} heads.", nameof(indices));
        if (_maskCount is null || _maskCount.Length < HeadCount) Array.Resize(ref _maskCount, HeadCount);
        foreach (int i in set) _maskCount[i]++;
        _openScopes++;
        return new MaskScope(this, set);
    }

    /// <summary>Whether a <see cref="MaskHeads"/> scope is open.</summary>
    public bool HasMaskedHeads => _openScopes > 0;

    /// <summary>Whether head <paramref name="head"/> is masked by an open scope.</summary>
    internal bool IsMasked(int head) => _maskCount is { } c && head < c.Length && c[head] > 0;

    private Tensor? MaskTensor(Tensor heads)
    {
        if (_openScopes == 0 || _maskCount is null) return null;
        long h = heads.shape[1];
        if (_maskCount.Length > h)
            throw new InvalidOperationException($"Heads were removed (now {h}) while a MaskHeads scope was open.");
        var scale = new float[h];
        for (int i = 0; i < h; i++) scale[i] = i < _maskCount.Length && _maskCount[i] > 0 ? 0f : 1f;
        return tensor(scale, heads.dtype, heads.device).view(1, -1, 1, 1);
    }

    private sealed class MaskScope(GrowableMultiHeadAttention layer, int[] indices) : IDisposable
    {
        private bool _done;

        public void Dispose()
        {
            if (_done) return;
            _done = true;
            foreach (int i in indices) if (i < layer._maskCount!.Length) layer._maskCount[i]--;
            layer._openScopes--;
            if (layer._openScopes == 0) layer._maskCount = null;
        }
    }
}
