using System.Diagnostics;
using Incrt.Tasks.Data;
using Incrt.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Incrt.Sst2;

/// <summary>
/// Bag-of-words logistic regression on the same token ids as the INCRT model: logits = Σ_t W[id_t] + b over the
/// sentence's tokens (counts, no order, no attention). Trained with the same batches, epochs, AdamW, warm-up + cosine
/// schedule as the transformer, so the difference in the table is what order and attention add.
/// </summary>
internal static class BagOfWordsBaseline
{
    /// <summary>Peak learning rate: a linear model on sparse counts needs a larger step than the transformer.</summary>
    public const double LearningRate = 1e-2;

    public static RunOutcome Train(Sst2Settings s, Sst2Data data, Device device, TextWriter log)
    {
        manual_seed(s.Seed);
        // One weight row per token id (the [PAD] row stays zero), then a bias; ids [CLS] and [PAD] carry no word.
        using var weights = nn.Embedding(data.Vocabulary.Count, 2, padding_idx: WordVocabulary.PadId, device: device);
        using (no_grad()) weights.weight!.zero_();
        var bias = nn.Parameter(zeros(2, device: device));
        var parameters = new[] { weights.weight!, bias };
        var optimizer = optim.AdamW(parameters, lr: LearningRate, weight_decay: 0.0);
        var train = new LengthBucketBatcher(data.TrainIds, data.Train.Select(r => r.Label).ToArray(), s.BatchSize, s.Seed, device);
        var dev = Sst2Pipeline.EvalBatcher(data.DevIds, data.Dev, device);
        long total = (long)train.BatchesPerEpoch * s.Epochs, step = 0;
        int warmup = (int)Math.Min(s.WarmupSteps, Math.Max(1, total / 10));
        var evals = new List<EvaluationResult>();
        var clock = Stopwatch.StartNew();
        double cpu0 = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;

        Tensor Logits(SequenceBatch b) => weights.call(b.Ids).sum(dim: 1) + bias;   // padding rows are zero
        for (int epoch = 0; epoch < s.Epochs; epoch++)
        {
            foreach (var batch in train.Epoch(epoch))
            {
                using var scope = NewDisposeScope();
                using var _ = batch;
                double lr = LearningRate * Incrt.Training.LearningRateSchedule.WarmupCosine(step, warmup, total, 0.1);
                foreach (var g in optimizer.ParamGroups) g.LearningRate = lr;
                optimizer.zero_grad();
                var loss = nn.functional.cross_entropy(Logits(batch), batch.Labels);
                loss.backward();
                optimizer.step();
                step++;
            }
            evals.Add(Evaluate(dev, Logits, step));
        }
        double seconds = clock.Elapsed.TotalSeconds, cpu = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds - cpu0;
        var final = evals[^1];
        log.WriteLine($"[bag-of-words LR] dev accuracy {final.Accuracy:P2} after {step} steps ({seconds:F0} s)");
        return new RunOutcome("bag-of-words LR", [], data.Vocabulary.Count * 2L + 2, final.Accuracy, evals.Max(e => e.Accuracy),
            seconds, cpu, step, final, evals);
    }

    private static EvaluationResult Evaluate(LengthBucketBatcher dev, Func<SequenceBatch, Tensor> logits, long step)
    {
        var confusion = new long[2, 2];
        double lossSum = 0; long n = 0;
        using (no_grad())
            foreach (var batch in dev.Evaluation())
            {
                using var scope = NewDisposeScope();
                using var _ = batch;
                var z = logits(batch);
                lossSum += nn.functional.cross_entropy(z, batch.Labels, reduction: nn.Reduction.Sum).item<float>();
                var pred = z.argmax(1).data<long>().ToArray();
                var truth = batch.Labels.data<long>().ToArray();
                for (int i = 0; i < pred.Length; i++) confusion[truth[i], pred[i]]++;
                n += pred.Length;
            }
        return new EvaluationResult(step, (confusion[0, 0] + confusion[1, 1]) / (double)n, lossSum / n, confusion);
    }
}
