using Incrt.Control;
using Incrt.Models;
using static TorchSharp.torch;

namespace Incrt.Training;

/// <summary>
/// The probe batch <see cref="Trainer"/> gives a controller without a <see cref="HeadController.LossProbe"/>: the first
/// <see cref="TrainerOptions.ProbeExamples"/> training examples in evaluation order, scored with the training loss in eval
/// mode. Training data, not validation data, so no architecture decision looks at the data used to select models.
/// </summary>
internal sealed class TrainingProbe : IDisposable
{
    private readonly List<SequenceBatch> _batches;
    private readonly IncrtClassifier _model;

    private TrainingProbe(List<SequenceBatch> batches, IncrtClassifier model) => (_batches, _model) = (batches, model);

    public static TrainingProbe From(LengthBucketBatcher train, IncrtClassifier model, int examples)
    {
        var batches = new List<SequenceBatch>();
        long taken = 0;
        foreach (var batch in train.Evaluation())
        {
            batches.Add(batch);
            taken += batch.Labels.shape[0];
            if (taken >= examples) break;
        }
        return new TrainingProbe(batches, model);
    }

    /// <summary>Mean cross-entropy over the probe examples.</summary>
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
                var logits = _model.forward(batch.Ids, batch.KeyPaddingMask);
                sum += nn.functional.cross_entropy(logits, batch.Labels, reduction: nn.Reduction.Sum).item<float>();
                n += batch.Labels.shape[0];
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
