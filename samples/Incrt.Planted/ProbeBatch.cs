using Incrt.Models;
using Incrt.Tasks.Planted;
using static TorchSharp.torch;

namespace Incrt.Planted;

/// <summary>The loss-aware rules' probe: one fixed batch (split seed <see cref="SplitSeed"/>, never trained on and not
/// the dev split), scored in eval mode.</summary>
internal sealed class ProbeBatch : IDisposable
{
    /// <summary>The probe examples' split seed (training uses 1 … steps, the dev split 0).</summary>
    public const long SplitSeed = -1;

    private readonly Tensor _ids;
    private readonly Tensor _labels;

    private ProbeBatch(Tensor ids, Tensor labels) => (_ids, _labels) = (ids, labels);

    public static ProbeBatch Create(PlantedTask task, PlantedSettings s, Device device)
    {
        var (ids, labels) = task.Generate(s.ProbeExamples, SplitSeed).ToTensors(device);
        return new ProbeBatch(ids, labels);
    }

    /// <summary>The training loss of <paramref name="model"/> on the probe batch (eval mode; the caller's no_grad).</summary>
    public double Loss(IncrtMultiOutputClassifier model, PlantedTask task)
    {
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var scope = NewDisposeScope();
            return PlantedTraining.SummedReadoutLoss(model.forward(_ids), _labels, task).item<float>();
        }
        finally { if (wasTraining) model.train(); }
    }

    public void Dispose()
    {
        _ids.Dispose();
        _labels.Dispose();
    }
}
