using System.Diagnostics;
using Incrt.Control;
using Incrt.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Incrt.Training;

/// <summary>
/// A small reusable training loop for <see cref="IncrtClassifier"/>: AdamW, warm-up + cosine schedule, gradient
/// clipping, periodic evaluation, and the INCRT controller called after every optimizer step (docs/algorithm.md §4).
/// </summary>
/// <remarks>Each step runs in its own dispose scope, so memory does not grow with the number of steps.</remarks>
public sealed class Trainer
{
    private readonly IncrtClassifier _model;
    private readonly TrainerOptions _options;

    /// <summary>Creates a trainer and its AdamW optimizer over the model's (materialised) parameters.</summary>
    public Trainer(IncrtClassifier model, TrainerOptions? options = null)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _options = options ?? new TrainerOptions();
        _options.Validate();
        Optimizer = optim.AdamW(model.parameters().ToArray(), lr: _options.LearningRate, weight_decay: _options.WeightDecay);
    }

    /// <summary>The optimizer (pass it to <see cref="HeadController"/> so head changes resize its state).</summary>
    public optim.Optimizer Optimizer { get; }

    /// <summary>The controller called after each step, or null for a fixed architecture.</summary>
    public HeadController? Controller { get; set; }

    /// <summary>Optimizer steps taken so far (including skipped ones).</summary>
    public long Step { get; private set; }

    /// <summary>Steps whose loss or gradients were not finite and whose update was therefore skipped.</summary>
    public long SkippedSteps { get; private set; }

    /// <summary>Raised every <see cref="TrainerOptions.ProgressEvery"/> steps.</summary>
    public event Action<TrainingProgress>? Progress;

    /// <summary>Raised after each evaluation.</summary>
    public event Action<EvaluationResult>? Evaluated;

    /// <summary>Trains for <see cref="TrainerOptions.Epochs"/> epochs; evaluates on <paramref name="validation"/> when
    /// given. Returns every evaluation in order.</summary>
    public IReadOnlyList<EvaluationResult> Fit(LengthBucketBatcher train, LengthBucketBatcher? validation = null,
        CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        long total = (long)train.BatchesPerEpoch * _options.Epochs;
        var evals = new List<EvaluationResult>();
        int perEpoch = train.BatchesPerEpoch;
        var evalAt = Enumerable.Range(1, _options.EvaluationsPerEpoch)
            .Select(i => (int)Math.Round(i * perEpoch / (double)_options.EvaluationsPerEpoch)).ToHashSet();
        var clock = Stopwatch.StartNew();
        double lossSum = 0; int lossCount = 0; long lastReportStep = Step; double lastReportTime = 0;
        // Loss-aware rules mask heads on a fixed probe batch; without one of the caller's, the first training examples.
        using var probe = Controller is { LossProbe: null } ? TrainingProbe.From(train, _model, _options.ProbeExamples) : null;
        using var _ = probe?.AttachTo(Controller!);

        for (int epoch = 1; epoch <= _options.Epochs; epoch++)
        {
            int inEpoch = 0;
            foreach (var batch in train.Epoch(epoch - 1))
            {
                cancellation.ThrowIfCancellationRequested();
                double loss;
                using (var scope = NewDisposeScope())
                using (batch)
                {
                    loss = TrainStep(batch, total);
                }
                Controller?.Step(Step - 1, loss);
                inEpoch++;
                if (double.IsFinite(loss)) { lossSum += loss; lossCount++; }

                if (Step % _options.ProgressEvery == 0)
                {
                    double now = clock.Elapsed.TotalSeconds;
                    Progress?.Invoke(new TrainingProgress(epoch, Step, total, lossCount > 0 ? lossSum / lossCount : double.NaN,
                        (Step - lastReportStep) / Math.Max(1e-9, now - lastReportTime), Heads(), EnergyRatios(), CurrentLearningRate));
                    lossSum = 0; lossCount = 0; lastReportStep = Step; lastReportTime = now;
                }
                if (validation is not null && evalAt.Contains(inEpoch))
                {
                    var result = Evaluate(validation);
                    evals.Add(result);
                    Evaluated?.Invoke(result);
                }
            }
        }
        return evals;
    }

    /// <summary>A clip bound no gradient reaches: LibTorch converts it to float, so double.MaxValue would overflow.</summary>
    private const double NoClip = 1e30;

    private double CurrentLearningRate => Optimizer.ParamGroups.First().LearningRate;

    /// <summary>One optimizer step on <paramref name="batch"/> (schedule, clipping, non-finite guard); returns the loss,
    /// NaN when the update was skipped. Does not call the controller.</summary>
    public double TrainStep(SequenceBatch batch, long totalSteps)
    {
        _model.train();
        double factor = LearningRateSchedule.WarmupCosine(Step, _options.WarmupSteps, totalSteps, _options.MinLearningRateFraction);
        foreach (var g in Optimizer.ParamGroups) g.LearningRate = _options.LearningRate * factor;

        Optimizer.zero_grad();
        var logits = _model.forward(batch.Ids, batch.KeyPaddingMask);
        var loss = nn.functional.cross_entropy(logits, batch.Labels);
        double value = loss.item<float>();
        if (!double.IsFinite(value))
        {
            // A non-finite loss must not reach the weights (and the controller skips the call).
            SkippedSteps++;
            Step++;
            return value;
        }
        loss.backward();
        // The global gradient norm (clipping when enabled); a non-finite norm means a NaN/Inf gradient somewhere:
        // skip the update so it never reaches the weights or the optimizer moments.
        double norm = nn.utils.clip_grad_norm_(_model.parameters(), _options.ClipNorm > 0 ? _options.ClipNorm : NoClip);
        if (!double.IsFinite(norm))
        {
            Optimizer.zero_grad();
            SkippedSteps++;
            Step++;
            return double.NaN;
        }
        Optimizer.step();
        Step++;
        return value;
    }

    /// <summary>Accuracy, loss and confusion matrix of the model on <paramref name="data"/> (eval mode, no grad).</summary>
    public EvaluationResult Evaluate(LengthBucketBatcher data) => Evaluate(_model, data, Step);

    /// <summary>Accuracy, loss and confusion matrix of <paramref name="model"/> on <paramref name="data"/>.</summary>
    public static EvaluationResult Evaluate(IncrtClassifier model, LengthBucketBatcher data, long step = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        int classes = model.Options.Classes;
        var confusion = new long[classes, classes];
        double lossSum = 0; long n = 0;
        bool wasTraining = model.training;
        model.eval();
        using (no_grad())
        {
            foreach (var batch in data.Evaluation())
            {
                using var scope = NewDisposeScope();
                using var _ = batch;
                var logits = model.forward(batch.Ids, batch.KeyPaddingMask);
                lossSum += nn.functional.cross_entropy(logits, batch.Labels, reduction: nn.Reduction.Sum).item<float>();
                var predicted = logits.argmax(1).cpu().data<long>().ToArray();
                var truth = batch.Labels.cpu().data<long>().ToArray();
                for (int i = 0; i < truth.Length; i++) confusion[truth[i], predicted[i]]++;
                n += truth.Length;
            }
        }
        if (wasTraining) model.train();
        long correct = Enumerable.Range(0, classes).Sum(c => confusion[c, c]);
        return new EvaluationResult(step, n == 0 ? double.NaN : correct / (double)n, n == 0 ? double.NaN : lossSum / n, confusion);
    }

    private IReadOnlyList<int> Heads() => _model.GrowableLayers.Select(l => l.HeadCount).ToList();

    private IReadOnlyList<double> EnergyRatios() =>
        Enumerable.Range(0, _model.GrowableLayers.Count).Select(i =>
        {
            if (Controller is null || i >= Controller.Layers.Count) return double.NaN;
            var r = Controller.LastReading(i);
            var t = Controller.Thresholds(i);
            return r is null || t is null ? double.NaN : r.LambdaMax / t.ThetaW;
        }).ToList();
}
