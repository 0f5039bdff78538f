using System.Diagnostics;
using Incrt.Samples.Common;
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
        using var model = new BagOfWords(data.Vocabulary.Count, device);
        var train = new LengthBucketBatcher(data.TrainIds, data.Train.Select(r => r.Label).ToArray(), s.BatchSize, s.Seed, device);
        var dev = Sst2Pipeline.EvalBatcher(data.DevIds, data.Dev, device);
        long total = SampleTraining.TotalSteps(train, s.Epochs);
        // The library's loop with the transformer's schedule (warm-up + cosine to 10%), no weight decay, no clipping.
        var trainer = new Trainer(model, b => model.forward(b.Ids), new TrainerOptions
        {
            Epochs = s.Epochs, LearningRate = LearningRate, WeightDecay = 0.0, ClipNorm = 0,
            WarmupSteps = Sst2Pipeline.WarmupSteps(s, total), ProgressEvery = int.MaxValue,
        });
        var clock = Stopwatch.StartNew();
        double cpu0 = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
        var evals = trainer.Fit(train, dev);
        double seconds = clock.Elapsed.TotalSeconds, cpu = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds - cpu0;
        var final = evals[^1];
        log.WriteLine($"[bag-of-words LR] dev accuracy {final.Accuracy:P2} after {trainer.Step} steps ({seconds:F0} s)");
        return new RunOutcome("bag-of-words LR", [], data.Vocabulary.Count * 2L + 2, final.Accuracy, evals.Max(e => e.Accuracy),
            seconds, cpu, trainer.Step, final, evals);
    }

    /// <summary>logits = Σ_t W[id_t] + b: one zero-initialised weight row per token id ([PAD] stays zero) and a bias.</summary>
    private sealed class BagOfWords : nn.Module<Tensor, Tensor>
    {
#pragma warning disable IDE1006
        private readonly TorchSharp.Modules.Embedding weights;
        private readonly TorchSharp.Modules.Parameter bias;
#pragma warning restore IDE1006

        public BagOfWords(long vocabulary, Device device) : base("bag_of_words")
        {
            weights = nn.Embedding(vocabulary, 2, padding_idx: WordVocabulary.PadId, device: device);
            using (no_grad()) weights.weight!.zero_();
            bias = nn.Parameter(zeros(2, device: device));
            RegisterComponents();
        }

        public override Tensor forward(Tensor ids) => weights.call(ids).sum(dim: 1) + bias;   // padding rows are zero
    }
}
