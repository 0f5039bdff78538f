using Incrt.Attention;
using static TorchSharp.torch;

namespace Incrt.Models;

/// <summary>How a sequence classifier turns token states into one vector.</summary>
public enum Pooling
{
    /// <summary>The state of the first token (a [CLS] token the tokenizer prepends).</summary>
    Cls,
    /// <summary>The mean over non-padding positions.</summary>
    MaskedMean,
    /// <summary>The per-feature maximum over non-padding positions (motif presence anywhere in a long sequence).</summary>
    MaskedMax,
}

/// <summary>Configuration of an <see cref="IncrtEncoder"/> and <see cref="IncrtClassifier"/> (docs/algorithm.md §6).</summary>
/// <param name="VocabSize">Number of token ids (embedding rows). Id 0 is padding.</param>
/// <param name="MaxLength">Length of the learned position table; longer inputs are rejected.</param>
/// <param name="DModel">Model width d. Default 128.</param>
/// <param name="HeadDim">Per-head width d_k = d_v. Default 32.</param>
/// <param name="Layers">Number of growable attention blocks. Default 1 (the paper validates single-layer models).</param>
/// <param name="InitialHeads">Heads per layer at construction. Default 1 [paper].</param>
/// <param name="MaxHeads">Head cap per layer. Default 64.</param>
/// <param name="FeedForward">Hidden width of an optional position-wise FFN after each attention block; 0 = none (the
/// reference architecture has none).</param>
/// <param name="Dropout">Dropout after the embedding and in the FFN, and on the attention weights unless
/// <paramref name="AttentionDropout"/> is set. Default 0.1 [ref-code].</param>
/// <param name="Aggregation">Head aggregation of every layer.</param>
/// <param name="Pooling">Classifier read-out.</param>
/// <param name="Classes">Number of output classes (classifier only).</param>
/// <param name="Seed">Seed for the layers' head initialisation.</param>
/// <param name="AttentionDropout">Dropout on the attention weights; null = <paramref name="Dropout"/>. Set it to 0 for
/// long sequences on CPU: with a non-zero attention dropout LibTorch's CPU <c>scaled_dot_product_attention</c> leaves its
/// fused kernel for the unfused path that materialises every (T × T) weight matrix — measured 5.6–6.5× slower per training
/// step at T = 425, 8 heads (samples/Incrt.SarsCov2/README.md).</param>
/// <param name="PreNorm">Block layout: false (default) = post-norm X ← LN(X + Attn(X)) as in the reference code; true =
/// pre-norm X ← X + Attn(LN(X)), which leaves the residual stream un-normalised, so a linear read-out sees the heads'
/// outputs as a linear sum (the planted tasks need this: a LayerNorm before the read-out lets fewer heads than
/// offsets unmix them, docs/theory.md §8).</param>
/// <param name="EmbeddingStd">Standard deviation of the token and position embeddings' initial draw; null = PyTorch's
/// N(0, 1). Only the ratio of an update to the table's scale matters behind the embedding LayerNorm, so a small value
/// (e.g. 0.02) lets AdamW move rarely seen words' vectors as fast as frequent ones'.</param>
/// <param name="TokenDropout">In training, the probability of dropping a whole token's embedding (its position embedding
/// stays): the model cannot lean on any single word, a regulariser for small text sets (word dropout, Iyyer et al. 2015).
/// Default 0.</param>
/// <param name="BagOfWordsScale">Classifier only: c of a linear bag-of-words term c·Σ_t W[id_t] added to the logits
/// (W: one zero-initialised row of class weights per token id), the "wide" part of a wide-and-deep model; 0 (the default)
/// = none. The scale is the term's step size: with Adam a weight scaled by c moves c times as fast, and a linear model
/// on word counts wants a larger step than the transformer.</param>
public sealed record IncrtModelOptions(
    long VocabSize,
    long MaxLength,
    long DModel = 128,
    long HeadDim = 32,
    int Layers = 1,
    int InitialHeads = 1,
    int MaxHeads = 64,
    long FeedForward = 0,
    double Dropout = 0.1,
    HeadAggregation Aggregation = HeadAggregation.Concat,
    Pooling Pooling = Pooling.Cls,
    int Classes = 2,
    ulong Seed = 0,
    double? AttentionDropout = null,
    bool PreNorm = false,
    double? EmbeddingStd = null,
    double TokenDropout = 0,
    double BagOfWordsScale = 0)
{
    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        if (VocabSize < 2) throw new ArgumentOutOfRangeException(nameof(VocabSize), VocabSize, "VocabSize must be at least 2.");
        if (MaxLength < 1) throw new ArgumentOutOfRangeException(nameof(MaxLength), MaxLength, "MaxLength must be positive.");
        if (Layers < 1) throw new ArgumentOutOfRangeException(nameof(Layers), Layers, "Layers must be at least 1.");
        if (FeedForward < 0) throw new ArgumentOutOfRangeException(nameof(FeedForward), FeedForward, "FeedForward must be 0 (none) or positive.");
        if (!(Dropout >= 0 && Dropout < 1)) throw new ArgumentOutOfRangeException(nameof(Dropout), Dropout, "Dropout must be in [0, 1).");
        if (AttentionDropout is double a && !(a >= 0 && a < 1))
            throw new ArgumentOutOfRangeException(nameof(AttentionDropout), a, "AttentionDropout must be null (same as Dropout) or in [0, 1).");
        if (!Enum.IsDefined(Pooling)) throw new ArgumentOutOfRangeException(nameof(Pooling), Pooling, "Pooling must be Cls, MaskedMean or MaskedMax.");
        if (EmbeddingStd is double std && !(std > 0 && double.IsFinite(std)))
            throw new ArgumentOutOfRangeException(nameof(EmbeddingStd), std, "EmbeddingStd must be null (PyTorch's N(0, 1)) or a positive finite number.");
        if (!(TokenDropout >= 0 && TokenDropout < 1)) throw new ArgumentOutOfRangeException(nameof(TokenDropout), TokenDropout, "TokenDropout must be in [0, 1).");
        if (!(BagOfWordsScale >= 0 && double.IsFinite(BagOfWordsScale)))
            throw new ArgumentOutOfRangeException(nameof(BagOfWordsScale), BagOfWordsScale, "BagOfWordsScale must be finite and ≥ 0 (0 = no bag-of-words term).");
        if (Classes < 2) throw new ArgumentOutOfRangeException(nameof(Classes), Classes, "Classes must be at least 2.");
        Attention(0, null).Validate();
    }

    /// <summary>The attention options of layer <paramref name="layer"/>.</summary>
    public AttentionOptions Attention(int layer, Device? device) =>
        new(DModel, HeadDim, InitialHeads, MaxHeads, AttentionDropout ?? Dropout, Aggregation, Bias: true, Device: device, Seed: Seed + (ulong)layer * 7919UL);
}
