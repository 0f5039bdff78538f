using Incrt.Control;
using Incrt.Tasks.Planted;

namespace Incrt.Planted;

/// <summary>Settings of the planted-task sweep (filled from the command line by <see cref="PlantedCommandLine"/>).</summary>
internal sealed record PlantedSettings
{
    public IReadOnlyList<PlantedFamily> Families { get; init; } = new[] { PlantedFamily.OffsetRetrieval, PlantedFamily.MarkerLocation };
    public IReadOnlyList<int> Ks { get; init; } = new[] { 1, 2, 3, 4, 6, 8 };
    public IReadOnlyList<int> Seeds { get; init; } = new[] { 1, 2, 3 };
    /// <summary>Fixed-H curve: H = 1 … FixedFactor·K.</summary>
    public int FixedFactor { get; init; } = 2;
    public int Values { get; init; } = 64;
    /// <summary>Offset retrieval: random tokens after [CLS].</summary>
    public int Length { get; init; } = 12;
    /// <summary>Marker location: positions after [CLS] (= classes per read-out).</summary>
    public int MarkerLength { get; init; } = 24;
    public int Fillers { get; init; } = 16;
    public int DModel { get; init; } = 64;
    public int HeadDim { get; init; } = 4;
    public int MaxHeads { get; init; } = 32;
    public int Steps { get; init; } = 1500;
    public int BatchSize { get; init; } = 64;
    public double LearningRate { get; init; } = 1e-2;
    public double WeightDecay { get; init; } = 0.01;
    public int WarmupSteps { get; init; } = 50;
    public int DevExamples { get; init; } = 2000;
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
    public ThresholdMode ThresholdMode { get; init; } = ThresholdMode.Relative;
    public PruneStatistic Prune { get; init; } = new ControllerOptions().Prune;
    public bool Quick { get; init; }

    /// <summary>The <c>--quick</c> preset: offset retrieval, K 1,2 × seed 1, 400 steps (a smoke run for the tests).</summary>
    public PlantedSettings WithQuickPreset() => this with
    {
        Quick = true, Families = new[] { PlantedFamily.OffsetRetrieval }, Ks = new[] { 1, 2 }, Seeds = new[] { 1 }, Steps = 400,
        DevExamples = 500, Out = "runs/planted-quick",
    };

    /// <summary>The task settings for one family, K and seed.</summary>
    public PlantedTaskOptions Task(PlantedFamily family, int k, int seed) =>
        new() { Family = family, K = k, Values = Values, Length = LengthOf(family), Fillers = Fillers, Seed = seed };

    /// <summary>The sequence length (after [CLS]) of <paramref name="family"/>.</summary>
    public int LengthOf(PlantedFamily family) => family == PlantedFamily.MarkerLocation ? MarkerLength : Length;

    /// <summary>The controller options of the INCRT runs (the library defaults, with the sweep's threshold and prune
    /// choices).</summary>
    public ControllerOptions Controller => new() { Thresholds = ThresholdMode, Prune = Prune };
}

/// <summary>Checks the settings against what the construction allows.</summary>
internal static class PlantedSettingsChecks
{
    /// <summary>The first problem, worded with the option names, or null when the settings can run.</summary>
    public static string? Problem(this PlantedSettings s)
    {
        int maxK = s.Ks.Max();
        foreach (var family in s.Families)
        {
            string option = family == PlantedFamily.MarkerLocation ? "--marker-length" : "--length";
            if (maxK > s.LengthOf(family))
                return $"--k {maxK} needs {maxK} distinct positions but {option} is {s.LengthOf(family)}; every K must be at most {option} (or raise {option}).";
        }
        if (!(s.LearningRate > 0 && double.IsFinite(s.LearningRate))) return $"--lr must be a positive number; got {s.LearningRate}.";
        if (s.Seeds.Distinct().Count() != s.Seeds.Count) return "--seeds lists a seed twice.";
        if (s.Ks.Distinct().Count() != s.Ks.Count) return "--k lists a K twice.";
        if (!s.Fixed && !s.Incrt) return "--no-fixed and --no-incrt together leave nothing to run.";
        return null;
    }
}
