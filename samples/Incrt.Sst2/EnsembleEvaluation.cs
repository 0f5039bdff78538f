using System.Globalization;
using Incrt.Models;
using Incrt.Persistence;
using Incrt.Tasks.Data;
using Incrt.Training;
using static TorchSharp.torch;

namespace Incrt.Sst2;

/// <summary>
/// <c>--eval a.incrt,b.incrt,…</c>: scores each checkpoint on the file, then the ensemble that averages their class
/// probabilities (each model with its own vocabulary and maximum length, examples matched by position in the file).
/// </summary>
internal static class EnsembleEvaluation
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>One checkpoint loaded for scoring <paramref name="rows"/>: the model (the caller disposes it), its
    /// encoded rows and the checkpoint's metadata.</summary>
    public static (IncrtClassifier Model, int[][] Ids, LoadedCheckpoint Loaded, WordVocabulary Vocabulary) Load(
        string checkpoint, IReadOnlyList<LabeledText> rows, Device device)
    {
        var loaded = IncrtCheckpoint.Load(checkpoint, device);
        var model = loaded.Model;
        var md = loaded.Metadata;
        var folder = Path.GetDirectoryName(Path.GetFullPath(checkpoint))!;
        var vocab = WordVocabulary.Load(Path.Combine(folder, md.TryGetValue("vocabulary", out var v) ? v : Sst2Pipeline.VocabularyFile));
        int maxLength = md.TryGetValue("maxLength", out var m) ? int.Parse(m, Inv) : (int)model.Options.MaxLength;
        return (model, rows.Select(r => vocab.Encode(r.Text, maxLength, addCls: true)).ToArray(), loaded, vocab);
    }

    /// <summary>Scores every checkpoint alone, then their mean probabilities; returns the ensemble's evaluation.</summary>
    public static EvaluationResult Run(IReadOnlyList<string> checkpoints, IReadOnlyList<LabeledText> rows, Device device, TextWriter log)
    {
        var sum = new double[rows.Count, 2];
        long parameters = 0;
        foreach (var path in checkpoints)
        {
            var (model, ids, loaded, vocab) = Load(path, rows, device);
            using (model)
            {
                if (model.Options.Classes != 2)
                    throw new CheckpointException(Path.GetFullPath(path), $"a {model.Options.Classes}-class model; the SST-2 ensemble needs binary classifiers.");
                var probabilities = Probabilities(model, Sst2Pipeline.EvalBatcher(ids, rows, device));
                for (int i = 0; i < rows.Count; i++)
                    for (int c = 0; c < 2; c++) sum[i, c] += probabilities[i, c];
                parameters += model.ParameterCount();
                double alone = Enumerable.Range(0, rows.Count).Count(i => Predicted(probabilities, i) == rows[i].Label) / (double)rows.Count;
                var (tokens, missing, _) = vocab.Coverage(rows.Select(r => r.Text));
                log.WriteLine(string.Create(Inv, $"member {Path.GetFullPath(path)}: heads per layer [{string.Join(", ", loaded.HeadCounts)}], {model.ParameterCount():N0} parameters, " +
                    $"{(double)missing / Math.Max(1, tokens):P1} of the words not in its vocabulary, accuracy {alone:P2}"));
            }
        }
        var confusion = new long[2, 2];
        double loss = 0;
        for (int i = 0; i < rows.Count; i++)
        {
            confusion[rows[i].Label, Predicted(sum, i)]++;
            loss -= Math.Log(Math.Max(sum[i, rows[i].Label] / checkpoints.Count, 1e-12));
        }
        var result = new EvaluationResult(0, (confusion[0, 0] + confusion[1, 1]) / (double)rows.Count, loss / rows.Count, confusion);
        log.WriteLine(string.Create(Inv, $"ensemble of {checkpoints.Count} (mean class probabilities), {parameters:N0} parameters in all:"));
        return result;
    }

    private static int Predicted(double[,] p, int i) => p[i, 1] > p[i, 0] ? 1 : 0;

    /// <summary>Class probabilities [example, class] in file order (eval mode, no_grad).</summary>
    internal static double[,] Probabilities(IncrtClassifier model, LengthBucketBatcher batcher)
    {
        var result = new double[batcher.Count, 2];
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            foreach (var batch in batcher.Evaluation())
            {
                using var scope = NewDisposeScope();
                using var _ = batch;
                var p = model.forward(batch.Ids, batch.KeyPaddingMask).softmax(-1).to(float64).cpu().data<double>().ToArray();
                for (int j = 0; j < batch.Size; j++)
                    for (int c = 0; c < 2; c++) result[batch.Indices[j], c] = p[2 * j + c];
            }
        }
        finally { if (wasTraining) model.train(); }
        return result;
    }
}
