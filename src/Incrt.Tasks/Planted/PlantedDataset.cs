using static TorchSharp.torch;

namespace Incrt.Tasks.Planted;

/// <summary>
/// Examples of a planted task: <see cref="Count"/> sequences of the same length <see cref="SequenceLength"/> (the
/// [CLS] slot first), each with <see cref="Outputs"/> labels in [0, classes).
/// </summary>
public sealed class PlantedDataset
{
    private readonly long[] _ids;
    private readonly long[] _labels;

    internal PlantedDataset(long[] ids, long[] labels, int count, int sequenceLength, int outputs)
    {
        _ids = ids;
        _labels = labels;
        Count = count;
        SequenceLength = sequenceLength;
        Outputs = outputs;
    }

    /// <summary>Number of examples.</summary>
    public int Count { get; }

    /// <summary>Tokens per sequence, [CLS] included.</summary>
    public int SequenceLength { get; }

    /// <summary>Labels per example (K).</summary>
    public int Outputs { get; }

    /// <summary>The token ids of example <paramref name="i"/>.</summary>
    public int[] Sequence(int i) => Array.ConvertAll(_ids[(i * SequenceLength)..((i + 1) * SequenceLength)], t => (int)t);

    /// <summary>The K labels of example <paramref name="i"/>.</summary>
    public int[] Labels(int i) => Array.ConvertAll(_labels[(i * Outputs)..((i + 1) * Outputs)], t => (int)t);

    /// <summary>Ids (N, T) and labels (N, K), both int64, on <paramref name="device"/>.</summary>
    public (Tensor Ids, Tensor Labels) ToTensors(Device? device = null) =>
        (tensor(_ids, new long[] { Count, SequenceLength }, dtype: ScalarType.Int64, device: device),
         tensor(_labels, new long[] { Count, Outputs }, dtype: ScalarType.Int64, device: device));
}
