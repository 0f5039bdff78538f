using System.Globalization;
using System.Text;
using Incrt.IO;
using Incrt.Samples.Common;
using Incrt.Tasks.Planted;

namespace Incrt.Planted;

/// <summary>The sweep's outputs: results.json (a <c>runs</c> array and a summary), knee.md (the fixed-H table) and
/// knee.png (accuracy against H per K, one panel per family).</summary>
internal static class PlantedReport
{
    /// <summary>Summary over runs that have both a knee and an INCRT run.</summary>
    public sealed record Summary(int Runs, int WithKnee, int WithinOneHead, double MeanAbsoluteError, double Correlation,
        int SharpKnees, int FlatAfterKnee, int KneeAtK, int AccuracyCompared, int AccuracyWithinOnePoint);

    public static Summary Summarise(IReadOnlyList<PlantedRun> runs)
    {
        var scored = runs.Where(r => r.MinimalHeads is not null && r.Incrt is not null).ToList();
        var withKnee = runs.Where(r => r.MinimalHeads is not null).ToList();
        return new Summary(runs.Count, withKnee.Count,
            scored.Count(r => Math.Abs(r.Incrt!.FinalHeads - r.MinimalHeads!.Value) <= 1),
            scored.Count == 0 ? double.NaN : scored.Average(r => Math.Abs(r.Incrt!.FinalHeads - r.MinimalHeads!.Value)),
            KneeAnalysis.Correlation(scored.Select(r => (double)r.MinimalHeads!.Value).ToList(), scored.Select(r => (double)r.Incrt!.FinalHeads).ToList()),
            withKnee.Count(r => r.SharpKnee), withKnee.Count(r => r.FlatAfterKnee), withKnee.Count(r => r.MinimalHeads == r.K),
            runs.Count(r => r.Incrt is not null && r.Curve?.ContainsKey(r.K) == true),
            runs.Count(r => r.Incrt is { } g && r.Curve?.GetValueOrDefault(r.K, double.NaN) is double a && !double.IsNaN(a) && g.Accuracy >= a - 0.01));
    }

    public static string SummaryLine(IReadOnlyList<PlantedRun> runs)
    {
        var s = Summarise(runs);
        return string.Create(CultureInfo.InvariantCulture,
            $"{s.Runs} configurations, {s.WithKnee} with a knee (sharp {s.SharpKnees}, flat after {s.FlatAfterKnee}, at H = K {s.KneeAtK}); " +
            $"INCRT within ±1 head of the knee: {s.WithinOneHead}/{runs.Count(r => r.MinimalHeads is not null && r.Incrt is not null)}, " +
            $"mean |final − knee| {s.MeanAbsoluteError:F2}, correlation(final, knee) {s.Correlation:F2}; " +
            $"INCRT accuracy within 1 point of fixed H = K: {s.AccuracyWithinOnePoint}/{s.AccuracyCompared}");
    }

    public static void Write(PlantedSettings s, IReadOnlyList<PlantedRun> runs, double seconds)
    {
        Directory.CreateDirectory(s.Out);
        var summaries = s.Families.ToDictionary(PlantedSweep.Name, f => Summarise(runs.Where(r => r.Family == f).ToList()));
        ResultsFile.Write(Path.Combine(s.Out, "results.json"), new
        {
            settings = new
            {
                families = s.Families.Select(PlantedSweep.Name), ks = s.Ks, seeds = s.Seeds, s.Steps, incrtSteps = s.IncrtStepCount, batchSize = s.BatchSize, learningRate = s.LearningRate,
                values = s.Values, length = s.Length, segmentSize = s.SegmentSize, fillers = s.Fillers, dModel = s.DModel, headDim = s.HeadDim, maxHeads = s.MaxHeads,
                fixedFactor = s.FixedFactor, preNorm = s.PreNorm, incrtStartFactor = s.IncrtStartFactor, kneeAccuracy = s.KneeAccuracy, kneeDrop = s.KneeDrop, workers = s.Workers,
                controller = s.ControllerPreset, curves = s.CurvesFile, thresholds = s.Controller.Thresholds.ToString(), prune = s.Controller.Prune.ToString(), growth = s.Controller.Growth.ToString(),
                accuracy = "fraction of held-out examples with all K read-outs right",
            },
            seconds,
            runs = runs.Select(r => new
            {
                family = PlantedSweep.Name(r.Family), k = r.K, seed = r.Seed, classes = r.Classes,
                minimalHeads = r.MinimalHeads, sharpKnee = r.SharpKnee, flatAfterKnee = r.FlatAfterKnee,
                initialHeads = r.Incrt?.InitialHeads, finalHeads = r.Incrt?.FinalHeads, accuracy = r.Incrt?.Accuracy, readoutAccuracy = r.Incrt?.ReadoutAccuracy,
                grew = r.Incrt?.Grew, pruned = r.Incrt?.Pruned, parameters = r.Incrt?.Parameters,
                headSteps = r.Incrt?.HeadSteps, headCounts = r.Incrt?.HeadCounts, incrtSeconds = r.Incrt?.Seconds,
                fixedHeadAccuracy = r.Fixed.OrderBy(p => p.Key).ToDictionary(p => p.Key.ToString(CultureInfo.InvariantCulture), p => p.Value.Accuracy),
                fixedHeadReadoutAccuracy = r.Fixed.OrderBy(p => p.Key).ToDictionary(p => p.Key.ToString(CultureInfo.InvariantCulture), p => p.Value.ReadoutAccuracy),
            }),
            summary = Summarise(runs),
            summaryByFamily = summaries,
        });
        AtomicFile.WriteAllText(Path.Combine(s.Out, "knee.md"), Table(s, runs));
        if (runs.Any(r => r.Fixed.Count > 0)) Plot(s, runs, Path.Combine(s.Out, "knee.png"));
    }

    /// <summary>Markdown table: one row per family and K, fixed-H accuracy (mean over seeds; min in brackets when the
    /// seeds disagree by more than 0.01), the knee per seed and INCRT's final heads per seed.</summary>
    public static string Table(PlantedSettings s, IReadOnlyList<PlantedRun> runs)
    {
        var sb = new StringBuilder();
        int maxH = runs.SelectMany(r => r.Fixed.Keys).DefaultIfEmpty(0).Max();
        sb.Append("| family | K | knee per seed | INCRT heads per seed |");
        for (int h = 1; h <= maxH; h++) sb.Append(CultureInfo.InvariantCulture, $" H={h} |");
        sb.AppendLine().Append("|---|---|---|---|");
        for (int h = 1; h <= maxH; h++) sb.Append("---|");
        sb.AppendLine();
        foreach (var g in runs.GroupBy(r => (r.Family, r.K)))
        {
            sb.Append(CultureInfo.InvariantCulture, $"| {PlantedSweep.Name(g.Key.Family)} | {g.Key.K} | {string.Join(", ", g.Select(r => r.MinimalHeads?.ToString(CultureInfo.InvariantCulture) ?? "–"))} | " +
                $"{string.Join(", ", g.Select(r => r.Incrt?.FinalHeads.ToString(CultureInfo.InvariantCulture) ?? "–"))} |");
            for (int h = 1; h <= maxH; h++)
            {
                var a = g.Where(r => r.Fixed.ContainsKey(h)).Select(r => r.Fixed[h].Accuracy).ToList();
                sb.Append(a.Count == 0 ? " |" : string.Create(CultureInfo.InvariantCulture,
                    $" {a.Average():F3}{(a.Max() - a.Min() > 0.01 ? $" ({a.Min():F2})" : "")} |"));
            }
            sb.AppendLine();
        }
        sb.AppendLine().AppendLine(SummaryLine(runs));
        return sb.ToString();
    }

    private static void Plot(PlantedSettings s, IReadOnlyList<PlantedRun> runs, string path)
    {
        var panels = new List<LinePlot.Panel>();
        foreach (var family in s.Families)
        {
            var series = new List<LinePlot.Series>();
            foreach (var g in runs.Where(r => r.Family == family && r.Fixed.Count > 0).GroupBy(r => r.K))
            {
                var hs = g.SelectMany(r => r.Fixed.Keys).Distinct().Order().ToList();
                series.Add(new LinePlot.Series($"K={g.Key}", hs.Select(h => (double)h).ToList(),
                    hs.Select(h => g.Where(r => r.Fixed.ContainsKey(h)).Average(r => r.Fixed[h].Accuracy)).ToList()));
                var grown = g.Where(r => r.Incrt is not null).ToList();
                if (grown.Count > 0)
                    series.Add(new LinePlot.Series($"INCRT K={g.Key}", grown.Select(r => (double)r.Incrt!.FinalHeads).ToList(),
                        grown.Select(r => r.Incrt!.Accuracy).ToList(), MarkersOnly: true));
            }
            if (series.Count > 0)
                panels.Add(new LinePlot.Panel($"{PlantedSweep.Name(family)}: accuracy (all K read-outs right) vs fixed heads H; markers: INCRT's final heads",
                    "heads H", "accuracy", series));
        }
        if (panels.Count > 0) LinePlot.Save(path, panels, panelHeight: 360);
    }
}
