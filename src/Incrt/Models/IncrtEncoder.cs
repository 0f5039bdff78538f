using Incrt.Attention;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Incrt.Models;

/// <summary>
/// Token + learned position embedding → LayerNorm → dropout → growable attention blocks (docs/algorithm.md §6).
/// Input: token ids (B, T) int64 and an optional key-padding mask (B, T) bool; output (B, T, d).
/// </summary>
public sealed class IncrtEncoder : nn.Module<Tensor, Tensor>, IGrowableModel
{
#pragma warning disable IDE1006
    private readonly Embedding tok_emb;
    private readonly Embedding pos_emb;
    private readonly LayerNorm emb_norm;
    private readonly Dropout emb_drop;
    private readonly ModuleList<IncrtBlock> blocks;
#pragma warning restore IDE1006

    /// <summary>Creates the encoder on <paramref name="device"/>.</summary>
    public IncrtEncoder(IncrtModelOptions options, Device? device = null, string name = "encoder") : base(name)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        tok_emb = nn.Embedding(options.VocabSize, options.DModel, padding_idx: 0, device: device);
        pos_emb = nn.Embedding(options.MaxLength, options.DModel, device: device);
        if (options.EmbeddingStd is double std)
        {
            using var _ = no_grad();
            tok_emb.weight!.normal_(0, std);
            using var padding = tok_emb.weight![0];
            padding.zero_();   // the padding row stays zero, as nn.Embedding's own init leaves it
            pos_emb.weight!.normal_(0, std);
        }
        emb_norm = nn.LayerNorm(options.DModel, device: device);
        emb_drop = nn.Dropout(options.Dropout);
        blocks = new ModuleList<IncrtBlock>(Enumerable.Range(0, options.Layers)
            .Select(i => new IncrtBlock(options.Attention(i, device), options.FeedForward, options.Dropout, $"block{i}", options.PreNorm)).ToArray());
        RegisterComponents();
    }

    /// <summary>The options the encoder was built with.</summary>
    public IncrtModelOptions Options { get; }

    /// <summary>The token embedding table (vocabulary × d); <see cref="Training.TrainerOptions.AdversarialNorm"/> perturbs it.</summary>
    public Parameter TokenEmbeddings => tok_emb.weight!;

    /// <summary>The growable attention layers, first to last.</summary>
    public IReadOnlyList<GrowableMultiHeadAttention> GrowableLayers => blocks.Select(b => b.Attention).ToList();

    /// <inheritdoc />
    public override Tensor forward(Tensor ids) => forward(ids, null);

    /// <summary>ids: (B, T) int64; keyPaddingMask: (B, T) bool, true = padding. Returns (B, T, d).</summary>
    public Tensor forward(Tensor ids, Tensor? keyPaddingMask)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Dimensions != 2 || ids.dtype != ScalarType.Int64)
            throw new ArgumentException($"ids must be (B, T) int64 token ids; got {ids.dtype} of shape ({string.Join(", ", ids.shape)}).", nameof(ids));
        if (ids.shape[1] > Options.MaxLength)
            throw new ArgumentException($"Sequence length {ids.shape[1]} exceeds the position table (MaxLength = {Options.MaxLength}).", nameof(ids));
        using var positions = arange(ids.shape[1], dtype: ScalarType.Int64, device: ids.device);
        var tokens = tok_emb.call(ids);
        if (training && Options.TokenDropout > 0)
        {
            // Word dropout: whole token vectors are zeroed (not rescaled), so the sentence must be read from the rest.
            using var draw = rand(ids.shape[0], ids.shape[1], 1, device: ids.device);
            using var keep = draw.ge_(Options.TokenDropout).to_type(tokens.dtype);
            tokens = tokens.mul_(keep);
        }
        var x = emb_drop.call(emb_norm.call(tokens + pos_emb.call(positions)));
        foreach (var block in blocks) x = block.forward(x, keyPaddingMask);
        return x;
    }
}
