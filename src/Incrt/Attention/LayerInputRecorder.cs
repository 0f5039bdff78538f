using static TorchSharp.torch;

namespace Incrt.Attention;

/// <summary>
/// Keeps the last input a <see cref="GrowableMultiHeadAttention"/> layer was called with: a detached reference (no
/// copy) to the (B, T, d_model) input and its key-padding mask, held outside any dispose scope until the next forward,
/// <see cref="Clear"/> or <see cref="Dispose"/>. The controller gives each layer one, so its energy rule reads the
/// batch of the last training step; <see cref="Pause"/> keeps probe forwards (masked-loss probes, predictions) out.
/// </summary>
public sealed class LayerInputRecorder : IDisposable
{
    private readonly IDisposable _registration;
    private int _paused;
    private bool _disposed;

    /// <summary>Starts recording <paramref name="layer"/>'s inputs.</summary>
    public LayerInputRecorder(GrowableMultiHeadAttention layer)
    {
        Layer = layer ?? throw new ArgumentNullException(nameof(layer));
        _registration = layer.RegisterInputObserver(Record);
    }

    /// <summary>The observed layer.</summary>
    public GrowableMultiHeadAttention Layer { get; }

    /// <summary>The last recorded input (detached), or null before the first forward.</summary>
    public Tensor? Input { get; private set; }

    /// <summary>The last recorded key-padding mask (true = padding), or null (none given, or nothing recorded).</summary>
    public Tensor? KeyPaddingMask { get; private set; }

    /// <summary>Whether forwards are currently ignored (a <see cref="Pause"/> scope is open).</summary>
    public bool IsPaused => _paused > 0;

    /// <summary>Ignores forwards until the returned scope is disposed; scopes nest.</summary>
    public IDisposable Pause()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _paused++;
        return new Resume(this);
    }

    /// <summary>Forgets the recorded input.</summary>
    public void Clear()
    {
        Input?.Dispose();
        KeyPaddingMask?.Dispose();
        Input = null;
        KeyPaddingMask = null;
    }

    /// <summary>Unregisters from the layer and frees the recorded tensors.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _registration.Dispose();
        Clear();
    }

    private void Record(Tensor x, Tensor? mask)
    {
        if (_paused > 0) return;
        Clear();
        Input = x.detach().DetachFromDisposeScope();
        KeyPaddingMask = mask?.detach().DetachFromDisposeScope();
    }

    private sealed class Resume(LayerInputRecorder owner) : IDisposable
    {
        private bool _done;

        public void Dispose()
        {
            if (_done) return;
            _done = true;
            owner._paused--;
        }
    }
}
