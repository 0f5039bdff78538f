using Incrt.Attention;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Incrt.Models;

/// <summary>
/// Sequence classifier: <see cref="IncrtEncoder"/> → pooling ([CLS], masked mean or masked max) → linear layer, plus an
/// optional linear bag-of-words term (<see cref="IncrtModelOptions.BagOfWordsScale"/>).
/// Input: ids (B, T) int64 and key-padding mask (B, T) bool; output logits (B, classes).
/// </summary>
public sealed class IncrtClassifier : nn.Module<Tensor, Tensor>, IGrowableModel
{
#pragma warning disable IDE1006
    private readonly IncrtEncoder encoder;
    private readonly Linear classifier;
    private readonly Embedding? bag_of_words;
#pragma warning restore IDE1006

    /// <summary>Creates the classifier on <paramref name="device"/>.</summary>
    public IncrtClassifier(IncrtModelOptions options, Device? device = null, string name = "incrt_classifier") : base(name)
    {
        encoder = new IncrtEncoder(options, device);
        classifier = nn.Linear(options.DModel, options.Classes, device: device);
        if (options.BagOfWordsScale > 0)
        {
            // Created last, so the encoder and read-out draw the same initial weights with or without it; zero, so the
            // model starts as the transformer alone.
            bag_of_words = nn.Embedding(options.VocabSize, options.Classes, padding_idx: 0, device: device);
            using var _ = no_grad();
            bag_of_words.weight!.zero_();
        }
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
        var logits = classifier.call(Pool(Options.Pooling, h, keyPaddingMask));
        // Σ_t W[id_t]: padding's row is zero, so padded positions add nothing.
        if (bag_of_words is not null) logits = logits + bag_of_words.call(ids).sum(dim: 1).mul(Options.BagOfWordsScale);
        return logits.MoveToOuterDisposeScope();
    }

    /// <summary>Pools token states (B, T, d) into one vector per sequence (B, d) the way the classifier does.</summary>
    /// <param name="pooling">The read-out.</param>
    /// <param name="h">Token states (B, T, d).</param>
    /// <param name="keyPaddingMask">(B, T), true = padding; null = no padding.</param>
    public static Tensor Pool(Pooling pooling, Tensor h, Tensor? keyPaddingMask)
    {
        ArgumentNullException.ThrowIfNull(h);
        if (h.dim() != 3) throw new ArgumentException($"h must be (B, T, d); got shape ({string.Join(", ", h.shape)}).", nameof(h));
        return pooling switch
        {
            Pooling.Cls => h.select(1, 0),
            Pooling.MaskedMean => MaskedMean(h, keyPaddingMask),
            Pooling.MaskedMax => MaskedMax(h, keyPaddingMask),
            _ => throw new ArgumentOutOfRangeException(nameof(pooling), pooling, "Unknown pooling."),
        };
    }

    // Mean over the positions that are not padding.
    private static Tensor MaskedMean(Tensor h, Tensor? keyPaddingMask)
    {
        if (keyPaddingMask is null) return h.mean(new long[] { 1 });
        var keep = keyPaddingMask.logical_not().unsqueeze(-1).to(h.dtype); // (B, T, 1)
        return (h * keep).sum(1) / keep.sum(1).clamp_min(1);
    }

    // Per-feature maximum over the positions that are not padding: a feature that fires on one motif anywhere in a long
    // sequence survives pooling at full strength (a mean would divide it by the length).
    private static Tensor MaskedMax(Tensor h, Tensor? keyPaddingMask)
    {
        if (keyPaddingMask is null) return h.amax(new long[] { 1 });
        return h.masked_fill(keyPaddingMask.unsqueeze(-1), double.NegativeInfinity).amax(new long[] { 1 });
    }

    /// <summary>Total number of trainable scalars (changes as heads grow and shrink).</summary>
    public long ParameterCount() => parameters().Sum(p => p.numel());
}
