using System.Globalization;
using System.Text;
using Incrt.Samples.Common;
using Incrt.Tasks.Data.SarsCov2;

namespace Incrt.SarsCov2;

/// <summary>One shifted simulator setting of the <see cref="RobustnessGrid"/>.</summary>
/// <param name="Name">Short name, e.g. <c>background 15</c>.</param>
/// <param name="Options">The simulator settings of this test set.</param>
public sealed record GridSetting(string Name, SpikeSimulationOptions Options);

/// <summary>A test set simulated with one <see cref="GridSetting"/>.</summary>
/// <param name="Setting">The setting.</param>
/// <param name="Records">Its labelled sequences (every class, <c>perClass</c> each).</param>
public sealed record GridSet(GridSetting Setting, IReadOnlyList<SpikeRecord> Records);

/// <summary>The metrics of one model on every set of the grid, in grid order.</summary>
/// <param name="Model">Model name as printed.</param>
/// <param name="Metrics">One entry per <see cref="GridSet"/>.</param>
public sealed record GridRow(string Model, IReadOnlyList<ClassificationMetrics> Metrics);

/// <summary>
/// Robustness to the simulator's settings: test sets simulated with settings other than the training ones (one
/// setting shifted at a time from the defaults, a clean set with only the defining mutations, and all shifts at
/// once), each with its own seed, never seen in training. A model that scores well only at its own training setting
/// has learned the simulator, not the variants.
/// </summary>
public static class RobustnessGrid
{
    /// <summary>The settings: the training defaults (a fresh sample), clean, keep-probability 0.8 / 0.9 / 1.0,
    /// background substitutions 0 / 5 / 10 / 15, unknown-run fraction 0 / 0.8, long unknown runs, all shifted.</summary>
    public static IReadOnlyList<GridSetting> Settings { get; } = Create();

    private static List<GridSetting> Create()
    {
        var d = new SpikeSimulationOptions();
        return
        [
            new("defaults (keep 0.95, bg 2, X 0.5)", d),
            new("clean (defining mutations only)", SpikeSimulationOptions.Exact),
            new("keep 0.80", d with { MutationPresenceProbability = 0.8 }),
            new("keep 0.90", d with { MutationPresenceProbability = 0.9 }),
            new("keep 1.00", d with { MutationPresenceProbability = 1.0 }),
            new("background 0", d with { BackgroundSubstitutionMean = 0 }),
            new("background 5", d with { BackgroundSubstitutionMean = 5 }),
            new("background 10", d with { BackgroundSubstitutionMean = 10 }),
            new("background 15", d with { BackgroundSubstitutionMean = 15 }),
            new("unknown runs 0", d with { UnknownRunProbability = 0 }),
            new("unknown runs 0.8", d with { UnknownRunProbability = 0.8 }),
            new("unknown runs 0.8, 1-60 aa", d with { UnknownRunProbability = 0.8, MaxUnknownRunLength = 60 }),
            new("all shifted (keep 0.8, bg 15, X 0.8)", d with { MutationPresenceProbability = 0.8, BackgroundSubstitutionMean = 15, UnknownRunProbability = 0.8 }),
        ];
    }

    /// <summary>Simulates every test set of the grid: <paramref name="perClass"/> sequences per class, seeds derived from
    /// <paramref name="seed"/> and the setting's index (so they differ from the training data's).</summary>
    /// <param name="catalog">Lineages and reference.</param>
    /// <param name="task">The task.</param>
    /// <param name="perClass">Sequences per class and setting.</param>
    /// <param name="seed">The run's seed.</param>
    public static IReadOnlyList<GridSet> Build(LineageCatalog catalog, SarsCov2Task task, int perClass, int seed) =>
        Settings.Select((s, i) => new GridSet(s, new SarsCov2TaskBuilder(catalog, s.Options).Simulate(task, perClass, unchecked(seed * 7919 + 104729 * (i + 1)))))
            .ToList();

    /// <summary>Scores one model on every set with <paramref name="score"/>.</summary>
    /// <param name="model">Model name.</param>
    /// <param name="sets">The grid.</param>
    /// <param name="score">Metrics of the model on one set.</param>
    public static GridRow Evaluate(string model, IReadOnlyList<GridSet> sets, Func<IReadOnlyList<SpikeRecord>, ClassificationMetrics> score)
    {
        ArgumentNullException.ThrowIfNull(sets);
        ArgumentNullException.ThrowIfNull(score);
        return new GridRow(model, sets.Select(s => score(s.Records)).ToList());
    }

    /// <summary>The table: one line per setting, one macro-F1 column per model, and the worst setting last.</summary>
    /// <param name="sets">The grid.</param>
    /// <param name="rows">One row per model.</param>
    public static string Table(IReadOnlyList<GridSet> sets, IReadOnlyList<GridRow> rows)
    {
        ArgumentNullException.ThrowIfNull(sets);
        ArgumentNullException.ThrowIfNull(rows);
        var inv = CultureInfo.InvariantCulture;
        int w = Math.Max(38, sets.Max(s => s.Setting.Name.Length) + 2);
        var widths = rows.Select(r => Math.Max(9, r.Model.Length + 2)).ToList();
        var sb = new StringBuilder();
        sb.Append("test set (macro-F1)".PadRight(w));
        for (int m = 0; m < rows.Count; m++) sb.Append(rows[m].Model.PadLeft(widths[m]));
        sb.AppendLine();
        for (int i = 0; i < sets.Count; i++)
        {
            sb.Append(sets[i].Setting.Name.PadRight(w));
            for (int m = 0; m < rows.Count; m++) sb.Append(rows[m].Metrics[i].MacroF1.ToString("F3", inv).PadLeft(widths[m]));
            sb.AppendLine();
        }
        sb.Append("worst".PadRight(w));
        for (int m = 0; m < rows.Count; m++) sb.Append(rows[m].Metrics.Min(x => x.MacroF1).ToString("F3", inv).PadLeft(widths[m]));
        sb.AppendLine();
        return sb.ToString();
    }

    /// <summary>The grid as plain objects for <c>results.json</c>.</summary>
    /// <param name="sets">The grid.</param>
    /// <param name="rows">One row per model.</param>
    /// <param name="perClass">Sequences per class and setting.</param>
    public static object ToJson(IReadOnlyList<GridSet> sets, IReadOnlyList<GridRow> rows, int perClass) => new
    {
        perClass,
        settings = sets.Select(s => new
        {
            name = s.Setting.Name,
            keepProbability = s.Setting.Options.MutationPresenceProbability,
            backgroundMean = s.Setting.Options.BackgroundSubstitutionMean,
            unknownRunProbability = s.Setting.Options.UnknownRunProbability,
            maxUnknownRunLength = s.Setting.Options.MaxUnknownRunLength,
            trimProbability = s.Setting.Options.TrimProbability,
            records = s.Records.Count,
        }),
        models = rows.Select(r => new
        {
            model = r.Model,
            worstMacroF1 = r.Metrics.Min(m => m.MacroF1),
            results = r.Metrics.Select((m, i) => new { setting = sets[i].Setting.Name, accuracy = m.Accuracy, macroF1 = m.MacroF1, confusion = m.Confusion }),
        }),
    };
}
