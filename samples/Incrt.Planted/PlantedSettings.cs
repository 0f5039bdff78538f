using Incrt.Control;
using Incrt.Samples.Common;
using Incrt.Tasks.Planted;

namespace Incrt.Planted;

/// <summary>Settings of the planted-task sweep (filled from the command line by <see cref="PlantedCommandLine"/>).</summary>
internal sealed record PlantedSettings
{
    public IReadOnlyList<PlantedFamily> Families { get; init; } = new[] { PlantedFamily.OffsetRetrieval, PlantedFamily.SegmentRetrieval };
    public IReadOnlyList<int> Ks { get; init; } = new[] { 1, 2, 3, 4, 6, 8 };
    public IReadOnlyList<int> Seeds { get; init; } = new[] { 1, 2, 3 };
    /// <summary>Fixed-H curve: H = 1 … FixedFactor·K.</summary>
    public int FixedFactor { get; init; } = 2;
    public int Values { get; init; } = 64;
    /// <summary>Offset retrieval: random tokens after [CLS].</summary>
    public int Length { get; init; } = 12;
    /// <summary>Segment retrieval: positions per segment; the sequence has K segments (Length = K · SegmentSize).</summary>
    public int SegmentSize { get; init; } = 3;
    public int Fillers { get; init; } = 16;
    public int DModel { get; init; } = 64;
    public int HeadDim { get; init; } = 4;
    public int MaxHeads { get; init; } = 32;
    public int Steps { get; init; } = 1500;
    /// <summary>Steps of the INCRT runs (null = 2 × <see cref="Steps"/>): growth is sequential, one head per loss plateau.</summary>
    public int? IncrtSteps { get; init; }
    /// <summary>The INCRT runs' step count.</summary>
    public int IncrtStepCount => IncrtSteps ?? 2 * Steps;
    public int BatchSize { get; init; } = 128;
    public double LearningRate { get; init; } = 1e-2;
    public double WeightDecay { get; init; } = 0.01;
    public int WarmupSteps { get; init; } = 50;
    public int DevExamples { get; init; } = 2000;
    /// <summary>Examples in the loss-aware rules' probe batch; the trainer's default (<see cref="Incrt.Training.TrainerOptions.ProbeExamples"/>),
    /// so the yardstick measures the size the samples use.</summary>
    public int ProbeExamples { get; init; } = new Incrt.Training.TrainerOptions().ProbeExamples;
    /// <summary>Knee rule: accuracy at the knee at least this …</summary>
    public double KneeAccuracy { get; init; } = 0.97;
    /// <summary>… and one head fewer at least this much lower.</summary>
    public double KneeDrop { get; init; } = 0.05;
    public bool Fixed { get; init; } = true;
    public bool Incrt { get; init; } = true;
    public int Workers { get; init; } = 1;
    public string Out { get; init; } = "runs/planted";
    public int Threads { get; init; } = 1;
    public string Device { get; init; } = "cpu";
    /// <summary>The controller preset of the INCRT runs: energy, loss or paper (<see cref="ControllerPresets"/>).</summary>
    public string ControllerPreset { get; init; } = "loss";
    /// <summary>Overrides of the loss-aware rules' settings (null = the preset's).</summary>
    public double? PlateauImprovement { get; init; }
    public int? PlateauSteps { get; init; }
    public int? TrialSteps { get; init; }
    public int? ProbeEverySteps { get; init; }
    public int? PruneEverySteps { get; init; }
    /// <summary>Most heads masked per prune check; 0 = every candidate; null = the preset's.</summary>
    public int? PruneProbeHeads { get; init; }
    /// <summary>Longest gap between prune checks; 0 = every <see cref="PruneEverySteps"/>; null = the preset's.</summary>
    public int? MaxPruneEverySteps { get; init; }
    public bool? GrowAfterKeep { get; init; }
    public int? MaxWithdrawals { get; init; }
    public double? UsefulFraction { get; init; }
    /// <summary>Overrides the preset's threshold mode when set.</summary>
    public ThresholdMode? ThresholdMode { get; init; }
    /// <summary>Overrides the preset's prune statistic when set.</summary>
    public PruneStatistic? Prune { get; init; }
    public bool Quick { get; init; }
    /// <summary>INCRT runs start with this many heads per K (0 = one head, the default; 2 = start at 2K and see whether
    /// the controller prunes down to the knee).</summary>
    public int IncrtStartFactor { get; init; }

    /// <summary>The INCRT runs' initial head count at <paramref name="k"/>.</summary>
    public int IncrtStartHeads(int k) => IncrtStartFactor == 0 ? 1 : IncrtStartFactor * k;
    /// <summary>Pre-norm blocks (no LayerNorm between the heads and the linear read-outs).</summary>
    public bool PreNorm { get; init; } = true;
    /// <summary>Only these fixed head counts (a partial curve, for probes); null = 1 … FixedFactor·K.</summary>
    public IReadOnlyList<int>? Heads { get; init; }
    /// <summary>Fixed-H curves measured by an earlier sweep (<c>--curves results.json</c>), keyed by
    /// <see cref="CurveKey"/>: with <c>--no-fixed</c> the knees come from them, so the controller can be compared with
    /// the knee without retraining the whole curve.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<int, double>>? PriorCurves { get; init; }
    /// <summary>The file <see cref="PriorCurves"/> came from.</summary>
    public string? CurvesFile { get; init; }

    /// <summary>The key of one configuration's curve in <see cref="PriorCurves"/>.</summary>
    public static string CurveKey(string family, int k, int seed) => $"{family}/{k}/{seed}";
    /// <summary>Worker mode: run only the jobs whose index i satisfies i mod Count = Index.</summary>
    public (int Index, int Count)? Shard { get; init; }
    /// <summary>Worker mode: append each job's outcome to this JSON-lines file.</summary>
    public string? OutcomesFile { get; init; }
    /// <summary>The arguments the sweep was started with (passed on to worker processes).</summary>
    public IReadOnlyList<string>? CommandLine { get; init; }

    /// <summary>The <c>--quick</c> preset: offset retrieval, K 1,2 × seed 1, 64 values, 400 steps of 64 (INCRT 1600: at
    /// batch 64 one head keeps improving too long for 800 steps to show growth) — a smoke run for the tests.</summary>
    public PlantedSettings WithQuickPreset() => this with
    {
        Quick = true, Families = new[] { PlantedFamily.OffsetRetrieval }, Ks = new[] { 1, 2 }, Seeds = new[] { 1 }, Steps = 400,
        BatchSize = 64, Values = 64, DevExamples = 500, Out = "runs/planted-quick", IncrtSteps = 1600,
    };

    /// <summary>The task settings for one family, K and seed.</summary>
    public PlantedTaskOptions Task(PlantedFamily family, int k, int seed) =>
        new() { Family = family, K = k, Values = Values, Length = LengthOf(family, k), Fillers = Fillers, Seed = seed };

    /// <summary>The sequence length (after [CLS]) of <paramref name="family"/> at <paramref name="k"/>.</summary>
    public int LengthOf(PlantedFamily family, int k) => family == PlantedFamily.SegmentRetrieval ? SegmentSize * k : Length;

    /// <summary>The controller options of the INCRT runs: the preset, with the sweep's threshold and prune overrides, and
    /// no loss-aware prune in the last 15% of the run.</summary>
    public ControllerOptions Controller
    {
        get
        {
            var preset = ControllerChoice.Preset(ControllerPreset);
            return preset with
            {
                Thresholds = ThresholdMode ?? preset.Thresholds,
                Prune = Prune ?? preset.Prune,
                LossAware = preset.LossAware with
                {
                    FreezeAtStep = (long)(0.85 * IncrtStepCount),
                    PlateauImprovement = PlateauImprovement ?? preset.LossAware.PlateauImprovement,
                    PlateauSteps = PlateauSteps ?? preset.LossAware.PlateauSteps,
                    TrialSteps = TrialSteps ?? preset.LossAware.TrialSteps,
                    ProbeEverySteps = ProbeEverySteps ?? preset.LossAware.ProbeEverySteps,
                    PruneEverySteps = PruneEverySteps ?? preset.LossAware.PruneEverySteps,
                    PruneProbeHeads = PruneProbeHeads is 0 ? null : PruneProbeHeads ?? preset.LossAware.PruneProbeHeads,
                    MaxPruneEverySteps = MaxPruneEverySteps is 0 ? null : MaxPruneEverySteps ?? preset.LossAware.MaxPruneEverySteps,
                    GrowAfterKeep = GrowAfterKeep ?? preset.LossAware.GrowAfterKeep,
                    MaxWithdrawals = MaxWithdrawals ?? preset.LossAware.MaxWithdrawals,
                    UsefulFraction = UsefulFraction ?? preset.LossAware.UsefulFraction,
                },
            };
        }
    }

}

/// <summary>Checks the settings against what the construction allows.</summary>
internal static class PlantedSettingsChecks
{
    /// <summary>The first problem, worded with the option names, or null when the settings can run.</summary>
    public static string? Problem(this PlantedSettings s)
    {
        int maxK = s.Ks.Max();
        if (s.Families.Contains(PlantedFamily.OffsetRetrieval) && maxK > s.Length)
            return $"--k {maxK} needs {maxK} distinct positions but --length is {s.Length}; offset retrieval needs every K at most --length (or raise --length).";
        if (s.Families.Contains(PlantedFamily.SegmentRetrieval) && s.SegmentSize < 2)
            return $"--segment-size must be at least 2 (one position per segment would be offset retrieval); got {s.SegmentSize}.";
        if (!(s.LearningRate > 0 && double.IsFinite(s.LearningRate))) return $"--lr must be a positive number; got {s.LearningRate}.";
        if (s.Seeds.Distinct().Count() != s.Seeds.Count) return "--seeds lists a seed twice.";
        if (s.Ks.Distinct().Count() != s.Ks.Count) return "--k lists a K twice.";
        if (!s.Fixed && !s.Incrt) return "--no-fixed and --no-incrt together leave nothing to run.";
        if (!ControllerChoice.IsValid(s.ControllerPreset)) return ControllerChoice.InvalidMessage(s.ControllerPreset);
        return null;
    }
}
