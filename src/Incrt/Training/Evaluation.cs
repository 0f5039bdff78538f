using TorchSharp;
using static TorchSharp.torch;

namespace Incrt.Training;

/// <summary>Scores a model's arg-max predictions on a batcher's evaluation order (eval mode, no grad).</summary>
internal static class Evaluation
{
    /// <summary>Accuracy, mean cross-entropy and confusion matrix over every read-out: logits (…, C), labels (…).</summary>
    /// <param name="model">Put in eval mode for the pass, then restored.</param>
    /// <param name="forward">Batch → logits.</param>
    /// <param name="data">The labelled batches.</param>
    /// <param name="step">Recorded in the result.</param>
    /// <param name="classes">Confusion-matrix size; null = the logits' last dimension.</param>
    public static EvaluationResult Run(nn.Module model, Func<SequenceBatch, Tensor> forward, LengthBucketBatcher data, long step, int? classes = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        long[,]? confusion = classes is int c ? new long[c, c] : null;
        double lossSum = 0; long n = 0;
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            foreach (var batch in data.Evaluation())
            {
                using var scope = NewDisposeScope();
                using var _ = batch;
                var logits = forward(batch);
                long k = logits.shape[^1];
                var flat = logits.reshape(-1, k);
                var labels = batch.Labels.reshape(-1);
                confusion ??= new long[k, k];
                lossSum += nn.functional.cross_entropy(flat, labels, reduction: nn.Reduction.Sum).item<float>();
                var predicted = flat.argmax(1).cpu().data<long>().ToArray();
                var truth = labels.cpu().data<long>().ToArray();
                for (int i = 0; i < truth.Length; i++) confusion[truth[i], predicted[i]]++;
                n += truth.Length;
            }
        }
        finally { if (wasTraining) model.train(); }
        confusion ??= new long[0, 0];
        long correct = Enumerable.Range(0, confusion.GetLength(0)).Sum(i => confusion[i, i]);
        return new EvaluationResult(step, n == 0 ? double.NaN : correct / (double)n, n == 0 ? double.NaN : lossSum / n, confusion);
    }
}
