using Incrt.Control;
using TorchSharp;
using static TorchSharp.torch;

namespace Incrt.Training;

/// <summary>
/// The probe batch <see cref="Trainer"/> gives a controller without a <see cref="HeadController.LossProbe"/>: the first
/// <see cref="TrainerOptions.ProbeExamples"/> training examples in input order (whole batches), regrouped by length, scored
/// with the training loss in eval mode. Training data, not validation data, so no architecture decision looks at the data used to select models.
/// </summary>
internal sealed class TrainingProbe : IDisposable
{
    private readonly List<SequenceBatch> _batches;
    private readonly nn.Module _model;
    private readonly Func<SequenceBatch, Tensor> _forward;
    private readonly Func<Tensor, Tensor, Tensor>? _loss;   // null: summed cross-entropy (the default loss, summed exactly)

    private TrainingProbe(List<SequenceBatch> batches, nn.Module model, Func<SequenceBatch, Tensor> forward, Func<Tensor, Tensor, Tensor>? loss) =>
        (_batches, _model, _forward, _loss) = (batches, model, forward, loss);

    public static TrainingProbe From(LengthBucketBatcher train, nn.Module model, Func<SequenceBatch, Tensor> forward,
        Func<Tensor, Tensor, Tensor>? loss, int examples)
    {
        // The first examples in input order, batched by length: the probe's cost is its padded positions, and input
        // order pads every batch to its longest phrase.
        var batches = train.PlanFirstByLength(examples).Select(train.MakeBatch).ToList();
        return new TrainingProbe(batches, model, forward, loss);
    }

    /// <summary>The trainer's loss over the probe examples, weighted by batch size.</summary>
    public double Loss()
    {
        bool wasTraining = _model.training;
        _model.eval();
        try
        {
            double sum = 0;
            long n = 0;
            foreach (var batch in _batches)
            {
                using var scope = NewDisposeScope();
                var logits = _forward(batch);
                long size = batch.Labels.shape[0];
                sum += _loss is null
                    ? nn.functional.cross_entropy(logits.reshape(-1, logits.shape[^1]), batch.Labels.reshape(-1), reduction: nn.Reduction.Sum).item<float>()
                    : _loss(logits, batch.Labels).item<float>() * size;
                n += _loss is null ? batch.Labels.numel() : size;
            }
            return sum / Math.Max(1, n);
        }
        finally { if (wasTraining) _model.train(); }
    }

    /// <summary>Sets <paramref name="controller"/>'s probe until the returned scope is disposed.</summary>
    public IDisposable AttachTo(HeadController controller)
    {
        controller.LossProbe = Loss;
        return new Detach(controller);
    }

    public void Dispose()
    {
        foreach (var b in _batches) b.Dispose();
    }

    private sealed class Detach(HeadController controller) : IDisposable
    {
        public void Dispose() => controller.LossProbe = null;
    }
}
