using System.Globalization;
using Incrt.Samples.Common;
using Incrt.Tasks.Data.SarsCov2;

namespace Incrt.SarsCov2;

/// <summary>
/// <c>--oracle</c>: scores the run's validation and test splits and its robustness grid with
/// <see cref="SimulatorOracle"/>, the likelihood classifier that knows every class's profiles and each set's simulator
/// settings, then stops. Nothing is trained: the numbers say what is attainable on those sets at all, so a model's
/// score can be read against them (same data as a training run with the same <c>--task/--per-class/--seed</c>).
/// </summary>
public static class SarsCov2Oracle
{
    /// <summary>Runs the oracle on the simulated splits and the grid and prints accuracy and macro-F1 per set.</summary>
    /// <param name="o">The options (a simulated task; <c>--task</c>, <c>--per-class</c>, <c>--seed</c>, <c>--grid-per-class</c>).</param>
    /// <param name="stdout">Where to print.</param>
    public static int Run(SarsCov2AppOptions o, TextWriter stdout)
    {
        if (o.InputTsv is not null || o.Fasta is not null)
            throw new UsageException("--oracle needs the simulated data (it knows the simulator's profiles and settings); drop --input-tsv/--fasta.");
        var data = SarsCov2Inputs.Load(o);
        var catalog = data.Catalog!;
        var task = data.Task!.Value;
        var classes = new SarsCov2TaskBuilder(catalog).GetClasses(task);
        var oracle = new SimulatorOracle(catalog, classes);
        var labels = data.Labels;
        var inv = CultureInfo.InvariantCulture;
        stdout.WriteLine($"data: {data.Source}");
        stdout.WriteLine($"oracle: {classes.Count} classes, {classes.Sum(c => c.Lineages.Count)} lineages, {oracle.Windows} scoring windows");
        ClassificationMetrics Score(IReadOnlyList<SpikeRecord> records, SpikeSimulationOptions options)
        {
            var confusion = new long[labels.Count, labels.Count];
            var predicted = new int[records.Count];
            Parallel.For(0, records.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, o.Threads) },
                i => predicted[i] = oracle.Predict(records[i].Sequence, options));
            for (int i = 0; i < records.Count; i++) confusion[IndexOf(labels, records[i].Label), predicted[i]]++;
            return ClassificationMetrics.From(labels, confusion);
        }
        var defaults = new SpikeSimulationOptions();
        var rows = new List<(string Name, ClassificationMetrics Metrics)>
        {
            ($"validation split ({data.Validation.Count})", Score(data.Validation, defaults)),
            ($"test split ({data.Test.Count})", Score(data.Test, defaults)),
        };
        if (o.GridPerClass > 0)
        {
            foreach (var set in RobustnessGrid.Build(catalog, task, o.GridPerClass, o.Seed))
                rows.Add((set.Setting.Name, Score(set.Records, set.Setting.Options)));
        }
        int w = rows.Max(r => r.Name.Length) + 2;
        stdout.WriteLine($"{"set (oracle)".PadRight(w)}{"accuracy",10}{"macro-F1",10}");
        foreach (var (name, m) in rows) stdout.WriteLine(string.Create(inv, $"{name.PadRight(w)}{m.Accuracy,10:F3}{m.MacroF1,10:F3}"));
        if (rows.Count > 2) stdout.WriteLine(string.Create(inv, $"{"worst grid set".PadRight(w)}{"",10}{rows.Skip(2).Min(r => r.Metrics.MacroF1),10:F3}"));
        return 0;
    }

    private static int IndexOf(IReadOnlyList<string> labels, string label)
    {
        for (int i = 0; i < labels.Count; i++) if (labels[i] == label) return i;
        throw new InvalidOperationException($"Label '{label}' is not a class of the task.");
    }
}
