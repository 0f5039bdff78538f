using System.Diagnostics;
using Incrt.Attention;
using Incrt.Control;
using Incrt.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Incrt.Training;

/// <summary>
/// A small reusable training loop for any model with growable layers (<see cref="IGrowableModel"/>): warm-up + cosine
/// schedule, gradient clipping, a non-finite guard, periodic evaluation, and the INCRT controller called after every
/// optimizer step (docs/algorithm.md §4). The optimizer is AdamW unless you pass your own.
/// </summary>
/// <remarks>Each step runs in its own dispose scope, so memory does not grow with the number of steps.</remarks>
public sealed class Trainer
{
    private readonly nn.Module _model;
    private readonly Func<SequenceBatch, Tensor> _forward;
    private readonly TrainerOptions _options;
    private readonly Parameter? _adversarialTable;   // the embedding table FGM moves; null when AdversarialNorm is 0

    /// <summary>Creates a trainer for an <see cref="IncrtClassifier"/> (logits = <c>model.forward(ids, mask)</c>).</summary>
    /// <param name="model">The classifier.</param>
    /// <param name="options">Loop settings; null for the defaults.</param>
    /// <param name="optimizer">The optimizer over <c>model.parameters()</c>; null for AdamW with the options' learning rate
    /// and weight decay.</param>
    public Trainer(IncrtClassifier model, TrainerOptions? options = null, optim.Optimizer? optimizer = null)
        : this(model, b => model.forward(b.Ids, b.KeyPaddingMask), options, optimizer)
    {
    }

    /// <summary>Creates a trainer for any model: <paramref name="forward"/> maps a batch to logits (B, C) — or (B, K, C)
    /// for K read-outs with labels (B, K) — and <see cref="LossFunction"/> turns logits and labels into the loss.</summary>
    /// <param name="model">The module whose parameters are trained; its growable layers are those of
    /// <see cref="IGrowableModel.GrowableLayers"/> when it implements it, else every
    /// <see cref="GrowableMultiHeadAttention"/> among its modules.</param>
    /// <param name="forward">Batch → logits, in the model's current mode.</param>
    /// <param name="options">Loop settings; null for the defaults.</param>
    /// <param name="optimizer">The optimizer over <c>model.parameters()</c>; null for AdamW.</param>
    public Trainer(nn.Module model, Func<SequenceBatch, Tensor> forward, TrainerOptions? options = null, optim.Optimizer? optimizer = null)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _forward = forward ?? throw new ArgumentNullException(nameof(forward));
        _options = options ?? new TrainerOptions();
        _options.Validate();
        Optimizer = optimizer ?? optim.AdamW(model.parameters().ToArray(), lr: _options.LearningRate, weight_decay: _options.WeightDecay);
        GrowableLayers = model is IGrowableModel g ? g.GrowableLayers : model.modules().OfType<GrowableMultiHeadAttention>().ToList();
        if (_options.AdversarialNorm > 0)
            _adversarialTable = model.modules().OfType<IncrtEncoder>().FirstOrDefault()?.TokenEmbeddings
                ?? throw new ArgumentException($"TrainerOptions.AdversarialNorm = {_options.AdversarialNorm} perturbs the token embeddings of an IncrtEncoder, and the model has none.", nameof(options));
    }

    /// <summary>The optimizer (pass it to <see cref="HeadController"/> so head changes resize its state).</summary>
    public optim.Optimizer Optimizer { get; }

    /// <summary>The controller called after each step, or null for a fixed architecture.</summary>
    public HeadController? Controller { get; set; }

    /// <summary>The model's growable layers (progress reports list their head counts).</summary>
    public IReadOnlyList<GrowableMultiHeadAttention> GrowableLayers { get; }

    /// <summary>(logits, labels) → scalar loss. Default: mean cross-entropy over every read-out,
    /// <c>cross_entropy(logits.reshape(-1, C), labels.reshape(-1))</c>.</summary>
    public Func<Tensor, Tensor, Tensor> LossFunction { get; set; } = DefaultLoss;

    private static readonly Func<Tensor, Tensor, Tensor> DefaultLoss = MeanCrossEntropy;

    /// <summary>Optimizer steps taken so far (including skipped ones).</summary>
    public long Step { get; private set; }

    /// <summary>Steps whose loss or gradients were not finite and whose update was therefore skipped.</summary>
    public long SkippedSteps { get; private set; }

    /// <summary>Raised every <see cref="TrainerOptions.ProgressEvery"/> steps.</summary>
    public event Action<TrainingProgress>? Progress;

    /// <summary>Raised after each evaluation.</summary>
    public event Action<EvaluationResult>? Evaluated;

    /// <summary>Raised after every step once the controller has acted, with the decisions of that step: the place for
    /// work that must not run inside the controller's own events (predictions, extra evaluations).</summary>
    public event Action<long, IReadOnlyList<HeadEvent>>? StepCompleted;

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
        using var probe = Controller is { LossProbe: null } ? TrainingProbe.From(train, _model, _forward,
            ReferenceEquals(LossFunction, DefaultLoss) ? null : LossFunction, _options.ProbeExamples) : null;
        using var _ = probe?.AttachTo(Controller!);

        for (int epoch = 1; epoch <= _options.Epochs; epoch++)
        {
            int inEpoch = 0;
            foreach (var batch in train.Epoch(epoch - 1))
            {
                cancellation.ThrowIfCancellationRequested();
                double loss;
                using (batch) loss = TrainStep(batch, total);
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

    /// <summary>
    /// One training step on <paramref name="batch"/>: schedule, forward, loss, backward, clipping, the non-finite guard
    /// and the optimizer step in a dispose scope of its own, then the controller's call for this step. Returns the loss,
    /// NaN when the update was skipped. Call it outside any dispose scope of yours: the controller's state must outlive
    /// the step. The batch stays yours to dispose.
    /// </summary>
    /// <param name="batch">The mini-batch.</param>
    /// <param name="totalSteps">The run's planned number of steps (for the learning-rate schedule).</param>
    public double TrainStep(SequenceBatch batch, long totalSteps)
    {
        ArgumentNullException.ThrowIfNull(batch);
        double loss;
        using (var scope = NewDisposeScope()) loss = OptimizerStep(batch, totalSteps);
        var events = Controller?.Step(Step - 1, loss) ?? Array.Empty<HeadEvent>();   // the step just taken
        StepCompleted?.Invoke(Step - 1, events);
        return loss;
    }

    private double OptimizerStep(SequenceBatch batch, long totalSteps)
    {
        _model.train();
        double factor = LearningRateSchedule.WarmupCosine(Step, _options.WarmupSteps, totalSteps, _options.MinLearningRateFraction);
        foreach (var g in Optimizer.ParamGroups) g.LearningRate = _options.LearningRate * factor;

        Optimizer.zero_grad();
        var loss = LossFunction(_forward(batch), batch.Labels);
        double value = loss.item<float>();
        if (!double.IsFinite(value))
        {
            // A non-finite loss must not reach the weights (and the controller skips the call).
            SkippedSteps++;
            Step++;
            return value;
        }
        loss.backward();
        if (_adversarialTable is not null) AdversarialBackward(batch);
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

    // FGM on the embedding table: move it by ε·g/‖g‖, add the gradient of the loss there, put the table back exactly
    // (a saved copy, not a subtraction, so rounding never drifts the weights). A non-finite loss or gradient here reaches
    // the norm check below and skips the step.
    private void AdversarialBackward(SequenceBatch batch)
    {
        var table = _adversarialTable!;
        if (table.grad is not { } g) return;
        double norm = g.norm().item<float>();
        if (!(norm > 0) || !double.IsFinite(norm)) return;
        using var saved = table.detach().clone();
        using (no_grad()) table.add_(g, alpha: _options.AdversarialNorm / norm);
        try
        {
            using var adversarial = LossFunction(_forward(batch), batch.Labels);
            adversarial.backward();
        }
        finally
        {
            using (no_grad()) table.copy_(saved);
        }
    }

    /// <summary>Accuracy, loss and confusion matrix of the model on <paramref name="data"/> (eval mode, no grad).</summary>
    public EvaluationResult Evaluate(LengthBucketBatcher data) => Evaluation.Run(_model, _forward, data, Step);

    /// <summary>Accuracy, loss and confusion matrix of <paramref name="model"/> on <paramref name="data"/>.</summary>
    public static EvaluationResult Evaluate(IncrtClassifier model, LengthBucketBatcher data, long step = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Evaluation.Run(model, b => model.forward(b.Ids, b.KeyPaddingMask), data, step, model.Options.Classes);
    }

    /// <summary>Mean cross-entropy over every read-out: logits (…, C) against labels (…).</summary>
    public static Tensor MeanCrossEntropy(Tensor logits, Tensor labels) =>
        nn.functional.cross_entropy(logits.reshape(-1, logits.shape[^1]), labels.reshape(-1));

    private IReadOnlyList<int> Heads() => GrowableLayers.Select(l => l.HeadCount).ToList();

    private IReadOnlyList<double> EnergyRatios() =>
        Enumerable.Range(0, GrowableLayers.Count).Select(i =>
        {
            if (Controller is null || i >= Controller.Layers.Count) return double.NaN;
            var r = Controller.LastReading(i);
            var t = Controller.Thresholds(i);
            return r is null || t is null ? double.NaN : r.LambdaMax / t.ThetaW;
        }).ToList();
}
