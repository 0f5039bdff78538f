using Incrt.Models;
using Incrt.Samples.Common;
using Incrt.Tasks.Data.SarsCov2;
using Incrt.Training;
using static TorchSharp.torch;

namespace Incrt.SarsCov2;

/// <summary>
/// Encodes labelled spikes for the INCRT model the way training does ([CLS] + k-mer ids, at most <c>maxLength</c>
/// tokens) and scores a model on them.
/// </summary>
/// <param name="tokenizer">The k-mer tokenizer fitted on the training split.</param>
/// <param name="maxLength">Tokens per sequence including [CLS].</param>
/// <param name="labels">Class labels in class-index order.</param>
public sealed class SpikeEncoder(KmerTokenizer tokenizer, int maxLength, IReadOnlyList<string> labels)
{
    private readonly Dictionary<string, int> _classIndex = labels.Select((l, i) => (l, i)).ToDictionary(p => p.l, p => p.i, StringComparer.Ordinal);

    /// <summary>Class labels in class-index order.</summary>
    public IReadOnlyList<string> Labels { get; } = labels;

    /// <summary>Sequences encoded so far that had more tokens than <c>maxLength</c>.</summary>
    public int Truncated { get; private set; }

    /// <summary>The class index of a label.</summary>
    /// <param name="record">A record whose label is one of <see cref="Labels"/>.</param>
    /// <exception cref="UsageException">The label is not one of <see cref="Labels"/>.</exception>
    public int ClassOf(SpikeRecord record) => _classIndex.TryGetValue(record.Label, out int c) ? c
        : throw new UsageException($"record '{record.Id}' has label '{record.Label}', which the model was not trained on (its classes: {string.Join(", ", Labels)}).");

    /// <summary>Encodes records (ids and class indices).</summary>
    /// <param name="records">Labelled sequences.</param>
    /// <param name="cap">A tighter token limit than the encoder's, or null.</param>
    public EncodedSplit Encode(IReadOnlyList<SpikeRecord> records, int? cap = null)
    {
        int limit = Math.Min(maxLength, cap ?? int.MaxValue);
        var sequences = new List<int[]>(records.Count);
        foreach (var r in records)
        {
            int full = 1 + tokenizer.KmerCount(r.Sequence.Length);
            if (full > limit) Truncated++;
            sequences.Add(tokenizer.Encode(r.Sequence, Math.Max(1, Math.Min(limit, full))));
        }
        return new EncodedSplit(sequences, records.Select(ClassOf).ToList());
    }

    /// <summary>Evaluates a model (eval mode, no gradient) on records; sequences longer than the model's position table
    /// are cut to it.</summary>
    /// <param name="model">The classifier.</param>
    /// <param name="records">Labelled sequences.</param>
    /// <param name="batchSize">Evaluation batch size.</param>
    /// <param name="seed">Batcher seed (evaluation does not shuffle).</param>
    /// <param name="device">Device of the model.</param>
    public ClassificationMetrics Score(IncrtClassifier model, IReadOnlyList<SpikeRecord> records, int batchSize, int seed, Device? device)
    {
        ArgumentNullException.ThrowIfNull(model);
        // The model's position table covers the longest sequence it was built for (the task's own data); a longer
        // sequence (a shifted grid setting, user data) is cut to it, as --max-length cuts in training.
        var split = Encode(records, (int)model.Options.MaxLength);
        var batches = new LengthBucketBatcher(split.Sequences, split.Labels, batchSize, seed, device);
        return ClassificationMetrics.From(Labels, Trainer.Evaluate(model, batches).Confusion);
    }
}
