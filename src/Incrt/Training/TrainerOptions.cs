namespace Incrt.Training;

/// <summary>Settings of <see cref="Trainer"/>; defaults follow the INCRT reference code (docs/algorithm.md §6).</summary>
public sealed record TrainerOptions
{
    /// <summary>Passes over the training data. Default 3.</summary>
    public int Epochs { get; init; } = 3;

    /// <summary>Peak AdamW learning rate. Default 1e-3 [ref-code].</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>AdamW weight decay. Default 0.01 [ref-code].</summary>
    public double WeightDecay { get; init; } = 0.01;

    /// <summary>Linear warm-up steps. Default 500 [ref-code].</summary>
    public int WarmupSteps { get; init; } = 500;

    /// <summary>Cosine floor as a fraction of the peak rate. Default 0.1 [ref-code].</summary>
    public double MinLearningRateFraction { get; init; } = 0.1;

    /// <summary>Global gradient-norm clip; 0 disables. Default 1.0 [ref-code].</summary>
    public double ClipNorm { get; init; } = 1.0;

    /// <summary>Steps between progress reports. Default 50.</summary>
    public int ProgressEvery { get; init; } = 50;

    /// <summary>Evaluate on the validation set this many times per epoch (at evenly spaced steps, the last at the end
    /// of the epoch). Default 1.</summary>
    public int EvaluationsPerEpoch { get; init; } = 1;

    /// <summary>Training examples in the probe batch the trainer gives a controller that has no
    /// <see cref="Control.HeadController.LossProbe"/> (loss-aware rules mask heads on it). Default 128
    /// (512 before 2026-11-30): a quarter of the cost per probe, and on the planted yardstick and the published sample
    /// runs it picks the same sizes (docs/algorithm.md §8, "Probe size").</summary>
    public int ProbeExamples { get; init; } = 128;

    /// <summary>Adversarial training on the token embeddings (the fast gradient method of Miyato et al., 2017, on the
    /// table): after the backward pass the embedding table moves by ε·g/‖g‖ along its own gradient g, the batch's loss
    /// at the moved table is back-propagated too (the step descends the sum of both losses), and the table is restored.
    /// ε is this value; 0 (the default) turns it off. Costs a second forward and backward per step. Needs a model with
    /// an <see cref="Models.IncrtEncoder"/>.</summary>
    public double AdversarialNorm { get; init; }

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (Epochs < 1) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "Epochs must be at least 1.");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate))
            throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "LearningRate must be finite and positive.");
        if (!(WeightDecay >= 0)) throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, "WeightDecay must be ≥ 0.");
        if (WarmupSteps < 0) throw new ArgumentOutOfRangeException(nameof(WarmupSteps), WarmupSteps, "WarmupSteps must be ≥ 0.");
        if (!(MinLearningRateFraction >= 0 && MinLearningRateFraction <= 1))
            throw new ArgumentOutOfRangeException(nameof(MinLearningRateFraction), MinLearningRateFraction, "must be in [0, 1].");
        if (!(ClipNorm >= 0)) throw new ArgumentOutOfRangeException(nameof(ClipNorm), ClipNorm, "ClipNorm must be ≥ 0.");
        if (ProgressEvery < 1) throw new ArgumentOutOfRangeException(nameof(ProgressEvery), ProgressEvery, "ProgressEvery must be ≥ 1.");
        if (ProbeExamples < 1) throw new ArgumentOutOfRangeException(nameof(ProbeExamples), ProbeExamples, "ProbeExamples must be ≥ 1.");
        if (!(AdversarialNorm >= 0) || !double.IsFinite(AdversarialNorm))
            throw new ArgumentOutOfRangeException(nameof(AdversarialNorm), AdversarialNorm, "AdversarialNorm must be finite and ≥ 0 (0 = off).");
        if (EvaluationsPerEpoch < 1) throw new ArgumentOutOfRangeException(nameof(EvaluationsPerEpoch), EvaluationsPerEpoch, "must be ≥ 1.");
    }
}
