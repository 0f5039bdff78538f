using System.Text.Json;
using Incrt.Samples.Common;
using Incrt.Tasks.Data.SarsCov2;

namespace Incrt.SarsCov2;

/// <summary>
/// A fitted bag-of-k-mers logistic regression: the training k-mers (features), and one weight per class and feature
/// plus a bias. It scores a sequence by summing the weights of the k-mers (overlapping, stride 1) it contains. Saved
/// next to the INCRT checkpoint as <see cref="FileName"/> so that <c>--eval</c> can compare both on the same data.
/// </summary>
public sealed class BagOfKmersModel
{
    /// <summary>File name of the saved baseline in the output folder.</summary>
    public const string FileName = "bow.json";

    private readonly Dictionary<string, int> _index;
    private readonly float[] _weights; // [class, feature], row-major
    private readonly float[] _bias;

    /// <summary>Creates a model from fitted weights.</summary>
    /// <param name="k">k-mer length.</param>
    /// <param name="labels">Class labels in index order.</param>
    /// <param name="kmers">The feature k-mers in feature order.</param>
    /// <param name="weights">Weights, [class, feature] row-major (classes × features values).</param>
    /// <param name="bias">One bias per class.</param>
    /// <exception cref="InvalidDataException">The sizes do not fit together.</exception>
    public BagOfKmersModel(int k, IReadOnlyList<string> labels, IReadOnlyList<string> kmers, float[] weights, float[] bias)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(kmers);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(bias);
        if (k < 1 || labels.Count < 2 || bias.Length != labels.Count || weights.Length != labels.Count * kmers.Count)
            throw new InvalidDataException($"Bag-of-k-mers model: k={k}, {labels.Count} labels, {kmers.Count} k-mers, {weights.Length} weights and {bias.Length} biases do not fit together.");
        K = k;
        Labels = labels.ToList();
        Kmers = kmers.ToList();
        _weights = weights;
        _bias = bias;
        _index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < Kmers.Count; i++)
        {
            if (!_index.TryAdd(Kmers[i], i)) throw new InvalidDataException($"Bag-of-k-mers model: duplicate k-mer '{Kmers[i]}'.");
        }
    }

    /// <summary>k-mer length.</summary>
    public int K { get; }

    /// <summary>Class labels in index order.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>The feature k-mers.</summary>
    public IReadOnlyList<string> Kmers { get; }

    /// <summary>Feature count.</summary>
    public int Features => Kmers.Count;

    /// <summary>Weights + biases.</summary>
    public long Parameters => _weights.Length + _bias.Length;

    /// <summary>The feature indices of the distinct known k-mers (stride 1, without <c>X</c>) of a sequence.</summary>
    /// <param name="sequence">Protein sequence.</param>
    /// <param name="k">k-mer length.</param>
    /// <param name="index">k-mer → feature index.</param>
    public static IEnumerable<int> PresentFeatures(string sequence, int k, IReadOnlyDictionary<string, int> index)
    {
        ArgumentNullException.ThrowIfNull(sequence);
        ArgumentNullException.ThrowIfNull(index);
        var seen = new HashSet<int>();
        for (int i = 0; i + k <= sequence.Length; i++)
        {
            if (index.TryGetValue(sequence.Substring(i, k).ToUpperInvariant(), out int f) && seen.Add(f)) yield return f;
        }
    }

    /// <summary>The predicted class index of a sequence (the largest logit; the first on ties).</summary>
    /// <param name="sequence">Protein sequence.</param>
    public int Predict(string sequence)
    {
        var logits = (float[])_bias.Clone();
        foreach (int f in PresentFeatures(sequence, K, _index))
        {
            for (int c = 0; c < logits.Length; c++) logits[c] += _weights[c * Features + f];
        }
        int best = 0;
        for (int c = 1; c < logits.Length; c++) if (logits[c] > logits[best]) best = c;
        return best;
    }

    /// <summary>Accuracy, macro-F1, per-class scores and confusion matrix on labelled sequences.</summary>
    /// <param name="data">Sequences and class indices (into <see cref="Labels"/>).</param>
    public ClassificationMetrics Score(IReadOnlyList<(string Sequence, int Label)> data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var confusion = new long[Labels.Count, Labels.Count];
        foreach (var (sequence, label) in data) confusion[label, Predict(sequence)]++;
        return ClassificationMetrics.From(Labels, confusion);
    }

    /// <summary>Writes the model as JSON (k, labels, k-mers, weights, biases).</summary>
    /// <param name="path">Destination.</param>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var dto = new Dto(K, Labels.ToList(), Kmers.ToList(), _weights, _bias);
        File.WriteAllText(path, JsonSerializer.Serialize(dto));
    }

    /// <summary>Reads a model written by <see cref="Save"/>.</summary>
    /// <param name="path">Source.</param>
    /// <exception cref="InvalidDataException">Not a bag-of-k-mers model file, or inconsistent sizes.</exception>
    public static BagOfKmersModel Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        Dto? dto;
        try { dto = JsonSerializer.Deserialize<Dto>(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a bag-of-k-mers model ({e.Message})", e); }
        if (dto?.Labels is null || dto.Kmers is null || dto.Weights is null || dto.Bias is null)
            throw new InvalidDataException($"{path}: not a bag-of-k-mers model (missing k, labels, kmers, weights or bias).");
        try { return new BagOfKmersModel(dto.K, dto.Labels, dto.Kmers, dto.Weights, dto.Bias); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
    }

    private sealed record Dto(int K, List<string> Labels, List<string> Kmers, float[] Weights, float[] Bias);
}
