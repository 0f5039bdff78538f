using Incrt.Attention;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Incrt.Models;

/// <summary>
/// Several classifications from one sequence: <see cref="IncrtEncoder"/> → pooling → one linear read-out per output.
/// Input: ids (B, T) int64 and key-padding mask (B, T) bool; output logits (B, <see cref="Outputs"/>,
/// <see cref="IncrtModelOptions.Classes"/>). Train it with
/// <c>cross_entropy(logits.reshape(-1, classes), labels.reshape(-1))</c> for labels (B, outputs).
/// </summary>
/// <remarks>The read-outs are linear on purpose: a non-linear read-out can unmix two tokens that one head averaged, which
/// would let fewer heads than read-outs solve a retrieval task (docs/theory.md §8).</remarks>
public sealed class IncrtMultiOutputClassifier : nn.Module<Tensor, Tensor>, IGrowableModel
{
#pragma warning disable IDE1006
    private readonly IncrtEncoder encoder;
    private readonly Linear readout;
#pragma warning restore IDE1006

    /// <summary>Creates the model on <paramref name="device"/> with <paramref name="outputs"/> read-outs of
    /// <see cref="IncrtModelOptions.Classes"/> classes each.</summary>
    public IncrtMultiOutputClassifier(IncrtModelOptions options, int outputs, Device? device = null, string name = "incrt_multi_output") : base(name)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (outputs < 1) throw new ArgumentOutOfRangeException(nameof(outputs), outputs, "outputs must be at least 1.");
        Outputs = outputs;
        encoder = new IncrtEncoder(options, device);
        readout = nn.Linear(options.DModel, outputs * (long)options.Classes, device: device);
        RegisterComponents();
    }

    /// <summary>The options the model was built with.</summary>
    public IncrtModelOptions Options => encoder.Options;

    /// <summary>Number of read-outs.</summary>
    public int Outputs { get; }

    /// <summary>The encoder.</summary>
    public IncrtEncoder Encoder => encoder;

    /// <summary>The growable attention layers, first to last.</summary>
    public IReadOnlyList<GrowableMultiHeadAttention> GrowableLayers => encoder.GrowableLayers;

    /// <inheritdoc />
    public override Tensor forward(Tensor ids) => forward(ids, null);

    /// <summary>Logits (B, outputs, classes) for ids (B, T) with key-padding mask (B, T) (true = padding).</summary>
    public Tensor forward(Tensor ids, Tensor? keyPaddingMask)
    {
        using var scope = NewDisposeScope();
        var pooled = IncrtClassifier.Pool(Options.Pooling, encoder.forward(ids, keyPaddingMask), keyPaddingMask);
        return readout.call(pooled).view(-1, Outputs, Options.Classes).MoveToOuterDisposeScope();
    }

    /// <summary>Total number of trainable scalars (changes as heads grow and shrink).</summary>
    public long ParameterCount() => parameters().Sum(p => p.numel());
}
