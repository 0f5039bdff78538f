using Incrt.Attention;

namespace Incrt.Models;

/// <summary>
/// A model whose attention size INCRT controls: it lists its <see cref="GrowableMultiHeadAttention"/> layers, first to
/// last. <see cref="Training.Trainer"/>, <see cref="Control.HeadController"/> (via <c>model.GrowableLayers</c>) and
/// <see cref="Persistence.IncrtCheckpoint"/> work with any TorchSharp <c>nn.Module</c> that implements it, not only the
/// models in this namespace.
/// </summary>
/// <example>
/// <code>
/// sealed class MyModel : nn.Module&lt;Tensor, Tensor&gt;, IGrowableModel
/// {
///     private readonly GrowableMultiHeadAttention attn;   // registered by RegisterComponents()
///     public IReadOnlyList&lt;GrowableMultiHeadAttention&gt; GrowableLayers => new[] { attn };
///     …
/// }
/// </code>
/// </example>
public interface IGrowableModel
{
    /// <summary>The growable attention layers, first to last; the same objects (and order) on every call.</summary>
    IReadOnlyList<GrowableMultiHeadAttention> GrowableLayers { get; }
}
