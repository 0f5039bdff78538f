using Incrt.Attention;
using Incrt.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Incrt.Tests.Training;

/// <summary>A model of "the user's own": embedding, one growable attention layer with a residual, mean pooling, a linear
/// read-out. Not an <see cref="IncrtClassifier"/>; it only lists its growable layer.</summary>
public sealed class TinyTagger : nn.Module<Tensor, Tensor>, IGrowableModel
{
#pragma warning disable IDE1006
    private readonly Embedding embed;
    private readonly GrowableMultiHeadAttention attn;
    private readonly Linear readout;
#pragma warning restore IDE1006

    public TinyTagger(long vocab = 32, long d = 16, int classes = 2, ulong seed = 3) : base("tiny_tagger")
    {
        embed = nn.Embedding(vocab, d);
        attn = new GrowableMultiHeadAttention(new AttentionOptions(DModel: d, HeadDim: 4, InitialHeads: 1, MaxHeads: 8, Seed: seed));
        readout = nn.Linear(d, classes);
        RegisterComponents();
    }

    public IReadOnlyList<GrowableMultiHeadAttention> GrowableLayers => new[] { attn };

    public override Tensor forward(Tensor ids)
    {
        using var scope = NewDisposeScope();
        var x = embed.call(ids);
        return readout.call((x + attn.forward(x)).mean(new long[] { 1 })).MoveToOuterDisposeScope();
    }
}
