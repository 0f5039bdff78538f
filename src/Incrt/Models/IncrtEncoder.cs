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
        emb_norm = nn.LayerNorm(options.DModel, device: device);
        emb_drop = nn.Dropout(options.Dropout);
        blocks = new ModuleList<IncrtBlock>(Enumerable.Range(0, options.Layers)
            .Select(i => new IncrtBlock(options.Attention(i, device), options.FeedForward, options.Dropout, $"block{i}", options.PreNorm)).ToArray());
        RegisterComponents();
    }

    /// <summary>The options the encoder was built with.</summary>
    public IncrtModelOptions Options { get; }

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
        var x = emb_drop.call(emb_norm.call(tok_emb.call(ids) + pos_emb.call(positions)));
        foreach (var block in blocks) x = block.forward(x, keyPaddingMask);
        return x;
    }
}
