using Incrt.Attention;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Incrt.Models;

/// <summary>
/// Sequence classifier: <see cref="IncrtEncoder"/> → pooling ([CLS] or masked mean) → linear layer.
/// Input: ids (B, T) int64 and key-padding mask (B, T) bool; output logits (B, classes).
/// </summary>
public sealed class IncrtClassifier : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006
    private readonly IncrtEncoder encoder;
    private readonly Linear classifier;
#pragma warning restore IDE1006

    /// <summary>Creates the classifier on <paramref name="device"/>.</summary>
    public IncrtClassifier(IncrtModelOptions options, Device? device = null, string name = "incrt_classifier") : base(name)
    {
        encoder = new IncrtEncoder(options, device);
        classifier = nn.Linear(options.DModel, options.Classes, device: device);
        RegisterComponents();
    }

    /// <summary>The options the model was built with.</summary>
    public IncrtModelOptions Options => encoder.Options;

    /// <summary>The encoder.</summary>
    public IncrtEncoder Encoder => encoder;

    /// <summary>The growable attention layers, first to last.</summary>
    public IReadOnlyList<GrowableMultiHeadAttention> GrowableLayers => encoder.GrowableLayers;

    /// <inheritdoc />
    public override Tensor forward(Tensor ids) => forward(ids, null);

    /// <summary>Logits (B, classes) for ids (B, T) with key-padding mask (B, T) (true = padding).</summary>
    public Tensor forward(Tensor ids, Tensor? keyPaddingMask)
    {
        using var scope = NewDisposeScope();
        var h = encoder.forward(ids, keyPaddingMask);                       // (B, T, d)
        Tensor pooled;
        if (Options.Pooling == Pooling.Cls)
            pooled = h.select(1, 0);
        else if (keyPaddingMask is null)
            pooled = h.mean(new long[] { 1 });
        else
        {
            var keep = keyPaddingMask.logical_not().unsqueeze(-1).to(h.dtype); // (B, T, 1)
            pooled = (h * keep).sum(1) / keep.sum(1).clamp_min(1);
        }
        return classifier.call(pooled).MoveToOuterDisposeScope();
    }

    /// <summary>Total number of trainable scalars (changes as heads grow and shrink).</summary>
    public long ParameterCount() => parameters().Sum(p => p.numel());
}
