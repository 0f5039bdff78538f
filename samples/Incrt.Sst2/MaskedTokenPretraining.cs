using System.Diagnostics;
using System.Globalization;
using Incrt.Control;
using Incrt.Models;
using Incrt.Samples.Common;
using Incrt.Tasks.Data;
using Incrt.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Incrt.Sst2;

/// <summary>What <see cref="MaskedTokenPretraining.Run"/> did.</summary>
/// <param name="Steps">Optimizer steps taken.</param>
/// <param name="FinalLoss">Mean masked-token cross-entropy of the last 100 steps.</param>
/// <param name="FinalAccuracy">Share of masked tokens predicted exactly over the last 100 steps.</param>
/// <param name="Seconds">Wall time.</param>
/// <param name="Heads">Heads per layer at the end (grown only with <c>--pretrain-grow</c>).</param>
internal sealed record PretrainingOutcome(long Steps, double FinalLoss, double FinalAccuracy, double Seconds, IReadOnlyList<int> Heads);

/// <summary>
/// Self-supervised pre-training of the classifier's encoder on the training sentences only (their labels are never
/// read): masked-token prediction as in BERT. In every batch 15% of the word tokens are chosen; 80% of those are replaced
/// by [UNK] (the vocabulary's unknown-word token doubles as the mask, so the encoder also learns to read an unseen word
/// from its context), 10% by a random word, 10% left as they are; a LayerNorm + linear read-out over the vocabulary
/// predicts the original word at the chosen positions. The read-out is dropped afterwards; the classifier is then trained
/// as usual (fresh optimizer, controller and schedule). The growable layers keep their head count here: growth is
/// decided on the task.
/// </summary>
internal static class MaskedTokenPretraining
{
    /// <summary>Share of word tokens chosen per batch [BERT].</summary>
    public const double ChosenFraction = 0.15;

    public static PretrainingOutcome Run(IncrtClassifier model, Sst2Data data, Sst2Settings s, Device device, TextWriter log)
    {
        long steps = s.PretrainSteps;
        if (steps <= 0) throw new ArgumentOutOfRangeException(nameof(s), steps, "PretrainSteps must be positive.");
        long d = model.Options.DModel, vocabulary = model.Options.VocabSize;
        using var readout = nn.Sequential(("norm", nn.LayerNorm(d, device: device)), ("proj", nn.Linear(d, vocabulary, device: device)));
        // The texts of the training rows; the labels handed to the batcher are placeholders it carries along.
        var batcher = new LengthBucketBatcher(data.TrainIds, new int[data.TrainIds.Length], s.BatchSize, s.Seed + 7919, device);
        var parameters = model.Encoder.parameters().Concat(readout.parameters()).ToArray();
        using var optimizer = optim.AdamW(parameters, s.LearningRate, weight_decay: s.WeightDecay);
        using var generator = new Generator((ulong)s.Seed + 104729, device);
        long warmup = Math.Min(s.WarmupSteps, Math.Max(1, steps / 10));
        // With --pretrain-grow the controller preset also runs here, on the masked-token loss: the heads the encoder
        // grows for reading words from their context are the ones the classifier starts with.
        using var probe = s.PretrainGrowth && !s.FixedHeads ? new Probe(model, readout, data, s, vocabulary, device) : null;
        using var controller = probe is null ? null
            : new HeadController(model.GrowableLayers, optimizer, ControllerChoice.Build(s.Controller, steps, s.Thresholds, probeEvery: s.ProbeEvery, pruneEvery: s.PruneEvery, trialSteps: s.TrialSteps), model: model)
            {
                LossProbe = probe.Loss,
            };

        var clock = Stopwatch.StartNew();
        var recentLoss = new Queue<double>();
        var recentHits = new Queue<(long Hit, long Chosen)>();
        long step = 0;
        model.train();
        readout.train();
        for (int epoch = 0; step < steps; epoch++)
        {
            foreach (var batch in batcher.Epoch(epoch))
            {
                using var _ = batch;
                if (step >= steps) break;
                double value = TrainStep(model, readout, optimizer, parameters, batch, vocabulary, generator,
                    s.LearningRate * Schedule(step, warmup, steps), recentHits);
                if (double.IsFinite(value))
                {
                    Remember(recentLoss, value);
                    // Outside the step's dispose scope: the controller's state must outlive the step.
                    foreach (var e in controller?.Step(step, value) ?? [])
                        log.WriteLine($"[pretrain] step {step} layer {e.Layer}: {e.Kind} head {e.HeadId} → {e.HeadsAfter} heads");
                }
                step++;
                if (step % 200 == 0 || step == steps)
                    log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"[pretrain] step {step}/{steps} masked-token loss {recentLoss.DefaultIfEmpty(double.NaN).Average():F3} accuracy {Accuracy(recentHits):P1} heads [{string.Join(",", model.GrowableLayers.Select(l => l.HeadCount))}] ({clock.Elapsed.TotalSeconds:F0} s)"));
            }
        }
        optimizer.zero_grad();
        return new PretrainingOutcome(step, recentLoss.DefaultIfEmpty(double.NaN).Average(), Accuracy(recentHits), clock.Elapsed.TotalSeconds,
            model.GrowableLayers.Select(l => l.HeadCount).ToArray());
    }

    /// <summary>One optimizer step on one batch's masked tokens; returns the loss (NaN when the update was skipped, or no
    /// word was chosen) and records the batch's exact-match count in <paramref name="recentHits"/>.</summary>
    private static double TrainStep(IncrtClassifier model, nn.Module<Tensor, Tensor> readout, optim.Optimizer optimizer, TorchSharp.Modules.Parameter[] parameters,
        SequenceBatch batch, long vocabulary, Generator generator, double learningRate, Queue<(long Hit, long Chosen)> recentHits)
    {
        using var scope = NewDisposeScope();
        foreach (var g in optimizer.ParamGroups) g.LearningRate = learningRate;
        var (input, chosen, targets) = Corrupt(batch.Ids, vocabulary, generator);
        long n = targets.shape[0];
        if (n == 0) return double.NaN;
        optimizer.zero_grad();
        var states = model.Encoder.forward(input, batch.KeyPaddingMask);          // (B, T, d)
        var logits = readout.call(states.index(chosen));                           // (n, V)
        var loss = nn.functional.cross_entropy(logits, targets);
        double value = loss.item<float>();
        if (!double.IsFinite(value)) return value;                               // a non-finite loss never reaches the weights
        loss.backward();
        nn.utils.clip_grad_norm_(parameters, 1.0);
        optimizer.step();
        recentHits.Enqueue((logits.argmax(1).eq(targets).sum().item<long>(), n));
        if (recentHits.Count > 100) recentHits.Dequeue();
        return value;
    }

    /// <summary>BERT's corruption of a batch: returns the input ids, the chosen positions (bool, B × T) and the original
    /// ids at the chosen positions. Only word tokens are chosen: never padding, [CLS] or [UNK] (an unknown word has no
    /// target).</summary>
    internal static (Tensor Input, Tensor Chosen, Tensor Targets) Corrupt(Tensor ids, long vocabulary, Generator generator)
    {
        var words = ids.gt(WordVocabulary.ClsId);                                          // ids 0..2 are [PAD] [UNK] [CLS]
        using var pick = rand(ids.shape, generator: generator, device: ids.device);
        var chosen = pick.lt(ChosenFraction).logical_and_(words);
        using var how = rand(ids.shape, generator: generator, device: ids.device);
        using var random = randint(WordVocabulary.ClsId + 1, vocabulary, ids.shape, generator: generator, dtype: ScalarType.Int64, device: ids.device);
        using var masked = chosen.logical_and(how.lt(0.8));
        using var replaced = chosen.logical_and(how.ge(0.8).logical_and_(how.lt(0.9)));
        var input = ids.masked_fill(masked, WordVocabulary.UnknownId).where(replaced.logical_not(), random);
        return (input, chosen, ids.index(chosen));
    }

    /// <summary>The controller's probe: the masked-token loss of the first 512 training sentences, corrupted once with
    /// a fixed draw (the same batch every time, so masking a head is a paired comparison), in eval mode.</summary>
    private sealed class Probe : IDisposable
    {
        private readonly IncrtClassifier _model;
        private readonly nn.Module<Tensor, Tensor> _readout;
        private readonly List<(SequenceBatch Batch, Tensor Input, Tensor Chosen, Tensor Targets)> _batches = new();

        public Probe(IncrtClassifier model, nn.Module<Tensor, Tensor> readout, Sst2Data data, Sst2Settings s, long vocabulary, Device device)
        {
            (_model, _readout) = (model, readout);
            var batcher = new LengthBucketBatcher(data.TrainIds, new int[data.TrainIds.Length], s.BatchSize, s.Seed, device);
            var first = Enumerable.Range(0, Math.Min(512, data.TrainIds.Length)).OrderBy(i => data.TrainIds[i].Length).ThenBy(i => i);
            using var generator = new Generator((ulong)s.Seed + 15485863, device);
            foreach (var indices in first.Chunk(s.BatchSize))
            {
                var batch = batcher.MakeBatch(indices);
                using var scope = NewDisposeScope();
                var (input, chosen, targets) = Corrupt(batch.Ids, vocabulary, generator);
                _batches.Add((batch, input.DetachFromDisposeScope(), chosen.DetachFromDisposeScope(), targets.DetachFromDisposeScope()));
            }
        }

        public double Loss()
        {
            _model.eval();
            _readout.eval();
            try
            {
                double sum = 0;
                long n = 0;
                foreach (var (batch, input, chosen, targets) in _batches)
                {
                    using var scope = NewDisposeScope();
                    var logits = _readout.call(_model.Encoder.forward(input, batch.KeyPaddingMask).index(chosen));
                    sum += nn.functional.cross_entropy(logits, targets, reduction: nn.Reduction.Sum).item<float>();
                    n += targets.shape[0];
                }
                return sum / Math.Max(1, n);
            }
            finally
            {
                _model.train();
                _readout.train();
            }
        }

        public void Dispose()
        {
            foreach (var (batch, input, chosen, targets) in _batches)
            {
                batch.Dispose();
                input.Dispose();
                chosen.Dispose();
                targets.Dispose();
            }
        }
    }

    /// <summary>Linear warm-up, then cosine from 1 to 0.1: the classifier's schedule (the library's
    /// <c>LearningRateSchedule.WarmupCosine</c> with floor 0.1, which is internal: the package keeps helpers off its
    /// public surface, <c>PublicSurfaceTests</c>).</summary>
    private static double Schedule(long step, long warmup, long total)
    {
        if (step < warmup) return (step + 1) / (double)warmup;
        double progress = Math.Min(1.0, (step - warmup) / (double)Math.Max(1, total - warmup));
        return 0.1 + 0.9 * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }

    private static void Remember(Queue<double> recent, double value)
    {
        recent.Enqueue(value);
        if (recent.Count > 100) recent.Dequeue();
    }

    private static double Accuracy(IEnumerable<(long Hit, long Chosen)> recent)
    {
        long hit = recent.Sum(r => r.Hit), chosen = recent.Sum(r => r.Chosen);
        return chosen == 0 ? double.NaN : hit / (double)chosen;
    }
}
