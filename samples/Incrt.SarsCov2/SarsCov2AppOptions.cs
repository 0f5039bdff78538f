using Incrt.Samples.Common;

namespace Incrt.SarsCov2;

/// <summary>Settings of one run of the SARS-CoV-2 sample (one field per command-line option).</summary>
public sealed record SarsCov2AppOptions
{
    /// <summary>Simulated task: voc5, who or omicron.</summary>
    public string Task { get; init; } = "voc5";

    /// <summary>Simulated sequences per class.</summary>
    public int PerClass { get; init; } = 800;

    /// <summary>Seed of simulation, split, initialisation and batch order.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>k-mer length.</summary>
    public int K { get; init; } = 3;

    /// <summary>Step between k-mer starts; null = k (non-overlapping k-mers).</summary>
    public int? Stride { get; init; }

    /// <summary>Tokens per sequence including [CLS]; longer sequences are truncated at the C-terminal end.</summary>
    public int MaxLength { get; init; } = 448;

    /// <summary>Training epochs. The command line's default depends on the task (<see cref="DefaultEpochs"/>).</summary>
    public int Epochs { get; init; } = 12;

    /// <summary>The default epochs of a task: 24 for who (13 classes; at 12 epochs its validation accuracy was still
    /// rising and seed 2 ended at test macro-F1 0.926, README "Current default"), 12 otherwise.</summary>
    public static int DefaultEpochs(string task) => task == "who" ? 24 : 12;

    /// <summary>Apply the task's defaults (<see cref="DefaultEpochs"/>) to the values the user left at their defaults.</summary>
    /// <param name="explicitlySet">Names of the options given on the command line (property names).</param>
    public SarsCov2AppOptions WithTaskDefaults(ISet<string> explicitlySet)
    {
        ArgumentNullException.ThrowIfNull(explicitlySet);
        return explicitlySet.Contains(nameof(Epochs)) ? this : this with { Epochs = DefaultEpochs(Task) };
    }

    /// <summary>Model width.</summary>
    public int DModel { get; init; } = 64;

    /// <summary>Per-head width.</summary>
    public int HeadDim { get; init; } = 16;

    /// <summary>Head cap per layer.</summary>
    public int MaxHeads { get; init; } = 32;

    /// <summary>Initial head count (the fixed head count with <see cref="NoController"/>).</summary>
    public int Heads { get; init; } = 1;

    /// <summary>Train without the controller (fixed-head baseline).</summary>
    public bool NoController { get; init; }

    /// <summary>Classifier read-out. Default masked max: on the default voc5 run it reached test macro-F1 0.990 in
    /// 12 epochs where [CLS] pooling reached 0.828 (README).</summary>
    public Incrt.Models.Pooling Pooling { get; init; } = Incrt.Models.Pooling.MaskedMax;

    /// <summary>Dropout after the embedding.</summary>
    public double Dropout { get; init; } = 0.1;

    /// <summary>Dropout on the attention weights. Default 0: a non-zero value takes LibTorch's CPU attention off its
    /// fused kernel (5.6–6.5× slower per step at this sequence length).</summary>
    public double AttentionDropout { get; init; }

    /// <summary>Word dropout in training: the probability of zeroing a whole k-mer token's embedding
    /// (<see cref="Incrt.Models.IncrtModelOptions.TokenDropout"/>), so no single mutation token can carry a prediction.
    /// Default 0.1: it mirrors the keep-probability shift (a defining mutation missing) and lifted omicron's worst grid
    /// set above 0.95 on three seeds (README "Current default").</summary>
    public double TokenDropout { get; init; } = 0.1;

    /// <summary>Training batch size.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Peak learning rate.</summary>
    public double LearningRate { get; init; } = 1e-2;

    /// <summary>Torch intra-op threads (0 = leave torch's default).</summary>
    public int Threads { get; init; } = 1;

    /// <summary>cpu, cuda, cuda:N or auto.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>Output folder; null = <c>runs/sarscov2</c> (<c>runs/sarscov2-quick</c> with <see cref="Quick"/>) for
    /// training, and the folder of the evaluated file for <see cref="Eval"/>.</summary>
    public string? Out { get; init; }

    /// <summary>Training-time augmentation: every training sequence is simulated with its own simulator settings
    /// (<see cref="SarsCov2Inputs.Augmentation"/>); validation and test keep the defaults.</summary>
    public bool Augment { get; init; } = true;

    /// <summary>Sequences per class and setting of the robustness grid (test sets simulated with shifted settings);
    /// 0 = no grid. Simulated tasks only.</summary>
    public int GridPerClass { get; init; } = 100;

    /// <summary>Print every class's lineages and their full mutation profiles, then stop.</summary>
    public bool Profiles { get; init; }

    /// <summary>Score the validation/test splits and the grid with <see cref="Incrt.Tasks.Data.SarsCov2.SimulatorOracle"/>
    /// (what is attainable on the simulated sets), then stop.</summary>
    public bool Oracle { get; init; }

    /// <summary>Data folder (the shared data folder or its <c>sarscov2</c> subfolder); null = <c>DataPaths.Resolve</c>.</summary>
    public string? Data { get; init; }

    /// <summary>Write the simulated data as <c>id\tlabel\tsequence</c> to this path.</summary>
    public string? WriteTsv { get; init; }

    /// <summary>Stop after writing the data (with <see cref="WriteTsv"/>).</summary>
    public bool NoTrain { get; init; }

    /// <summary>User data: TSV <c>id\tlabel\tsequence</c>.</summary>
    public string? InputTsv { get; init; }

    /// <summary>User data: protein FASTA (with <see cref="Labels"/>).</summary>
    public string? Fasta { get; init; }

    /// <summary>User data: id → label table (TSV/CSV, e.g. an NCBI Virus export) for <see cref="Fasta"/>.</summary>
    public string? Labels { get; init; }

    /// <summary>Evaluation-only mode: the checkpoint (<c>model.incrt</c>, with <c>vocab.txt</c> beside it) to evaluate on
    /// <see cref="InputTsv"/> or <see cref="Fasta"/>/<see cref="Labels"/> (every record, no split).</summary>
    public string? Eval { get; init; }

    /// <summary>Also train and report the bag-of-k-mers logistic-regression baseline on the same split.</summary>
    public bool BaselineBow { get; init; }

    /// <summary>Also train fixed-head transformers (no controller) with H ∈ {1, 4, 12, INCRT's final H} on the same
    /// split, data order and settings, and report accuracy/macro-F1 against parameters.</summary>
    public bool BaselineFixed { get; init; }

    /// <summary>Controller preset: loss (this sample's default; README "Loss-aware controller"), energy or paper
    /// (<see cref="ControllerChoice"/>).</summary>
    public string Controller { get; init; } = ControllerChoice.Default;

    /// <summary>The controller's prune statistic (<see cref="Incrt.Control.ControllerOptions.Prune"/>); null = the
    /// preset's.</summary>
    public Incrt.Control.PruneStatistic? Prune { get; init; }

    /// <summary>With <see cref="Incrt.Control.PruneStatistic.LeaveOneOut"/>: <see cref="Incrt.Control.ControllerOptions.LeaveOneOutRatio"/>;
    /// null = the preset's.</summary>
    public double? PruneRatio { get; init; }

    /// <summary>Loss preset: steps between masking probes of a trial head; null = the preset's.</summary>
    public int? ProbeEvery { get; init; }

    /// <summary>Loss preset: steps between two prune checks; null = the preset's.</summary>
    public int? PruneEvery { get; init; }

    /// <summary>Loss preset: steps a trial head has to become useful before it is withdrawn; null = the preset's.</summary>
    public int? TrialSteps { get; init; }

    /// <summary>Loss preset: training examples in the probe batch; null = the trainer's (<see cref="Incrt.Training.TrainerOptions.ProbeExamples"/>).</summary>
    public int? ProbeExamples { get; init; }

    /// <summary>What θ_w is a fraction of (<see cref="Incrt.Control.ControllerOptions.Thresholds"/>); null = the
    /// preset's.</summary>
    public Incrt.Control.ThresholdMode? Thresholds { get; init; }

    /// <summary>The controller options of a run of <paramref name="totalSteps"/> optimizer steps: the <see cref="Controller"/>
    /// preset with the explicit <see cref="Thresholds"/>, <see cref="Prune"/> and <see cref="PruneRatio"/> on top
    /// (<see cref="ControllerChoice.Build"/>).</summary>
    public Incrt.Control.ControllerOptions ControllerOptionsFor(long totalSteps) =>
        ControllerChoice.Build(Controller, totalSteps, Thresholds, Prune, PruneRatio, probeEvery: ProbeEvery, pruneEvery: PruneEvery, trialSteps: TrialSteps);

    /// <summary>Small settings for a smoke run (≤ 60 s): fewer sequences, shorter inputs, narrower model.</summary>
    public bool Quick { get; init; }

    /// <summary>Apply the <see cref="Quick"/> preset to the values the user left at their defaults.</summary>
    /// <param name="explicitlySet">Names of the options given on the command line (property names).</param>
    public SarsCov2AppOptions WithQuickPreset(ISet<string> explicitlySet)
    {
        ArgumentNullException.ThrowIfNull(explicitlySet);
        if (!Quick) return this;
        return this with
        {
            PerClass = explicitlySet.Contains(nameof(PerClass)) ? PerClass : 100,
            MaxLength = explicitlySet.Contains(nameof(MaxLength)) ? MaxLength : 128,
            Epochs = explicitlySet.Contains(nameof(Epochs)) ? Epochs : 12,
            DModel = explicitlySet.Contains(nameof(DModel)) ? DModel : 32,
            HeadDim = explicitlySet.Contains(nameof(HeadDim)) ? HeadDim : 8,
            GridPerClass = explicitlySet.Contains(nameof(GridPerClass)) ? GridPerClass : 20,
        };
    }
}
