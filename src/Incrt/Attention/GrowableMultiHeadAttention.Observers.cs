using static TorchSharp.torch;

namespace Incrt.Attention;

/// <summary>Input observers: how the controller (and analysis tools) see what the layer attends over.</summary>
public sealed partial class GrowableMultiHeadAttention
{
    private readonly List<Action<Tensor, Tensor?>> _inputObservers = new();

    /// <summary>
    /// Registers <paramref name="observer"/> to be called at the start of every <see cref="forward(Tensor, Tensor?)"/>
    /// with the input (B, T, d_model) and the key-padding mask (or null) — a forward pre-hook. The tensors are the
    /// caller's and live only as long as the caller keeps them: an observer that keeps one must detach it from the
    /// current dispose scope (see <see cref="LayerInputRecorder"/>). Dispose the returned handle to unregister.
    /// </summary>
    public IDisposable RegisterInputObserver(Action<Tensor, Tensor?> observer)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(observer);
        _inputObservers.Add(observer);
        return new Registration(this, observer);
    }

    /// <summary>Calls every registered observer (forward's first step after validation).</summary>
    private void NotifyInputObservers(Tensor x, Tensor? keyPaddingMask)
    {
        for (int i = 0; i < _inputObservers.Count; i++) _inputObservers[i](x, keyPaddingMask);
    }

    private sealed class Registration(GrowableMultiHeadAttention layer, Action<Tensor, Tensor?> observer) : IDisposable
    {
        private bool _done;

        public void Dispose()
        {
            if (_done) return;
            _done = true;
            layer._inputObservers.Remove(observer);
        }
    }
}
