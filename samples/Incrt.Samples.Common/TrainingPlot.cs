using Incrt.Control;
using Incrt.Training;

namespace Incrt.Samples.Common;

/// <summary>The training curve every sample draws: heads per layer, λmax/θ_w from the controller trace, and validation
/// accuracy, against the optimizer step.</summary>
public static class TrainingPlot
{
    /// <summary>Writes the PNG.</summary>
    /// <param name="path">Output file.</param>
    /// <param name="trace">The controller trace, or null for a fixed-head run (flat head lines, no λmax/θ_w panel).</param>
    /// <param name="evaluations">Validation evaluations in order.</param>
    /// <param name="heads">Final head count per layer (one line per layer).</param>
    /// <param name="steps">Optimizer steps of the run (x extent of flat lines and of the threshold).</param>
    /// <param name="title">Prefix of the panel titles (e.g. <c>INCRT</c>); none when empty.</param>
    public static void Save(string path, ControllerTrace? trace, IReadOnlyList<EvaluationResult> evaluations, IReadOnlyList<int> heads,
        long steps, string title = "")
    {
        ArgumentNullException.ThrowIfNull(evaluations);
        ArgumentNullException.ThrowIfNull(heads);
        string prefix = title.Length == 0 ? "" : $"{title}: ";
        var rows = trace?.Rows ?? [];
        var headSeries = Enumerable.Range(0, heads.Count).Select(l =>
        {
            var r = rows.Where(x => x.Layer == l).ToList();
            return r.Count > 0
                ? new LinePlot.Series($"layer {l}", r.Select(x => (double)x.Step).ToList(), r.Select(x => (double)x.Heads).ToList())
                : new LinePlot.Series($"layer {l} (fixed)", [0.0, steps], [heads[l], heads[l]]);
        }).ToList();
        var panels = new List<LinePlot.Panel> { new($"{prefix}heads per layer", "optimizer step", "heads", headSeries) };
        if (rows.Count > 0)
        {
            // θ_w is NaN until calibration ends: no ratio before that.
            var ratio = Enumerable.Range(0, heads.Count).Select(l =>
            {
                var r = rows.Where(x => x.Layer == l && double.IsFinite(x.ThetaW) && x.ThetaW > 0 && double.IsFinite(x.LambdaMax)).ToList();
                return new LinePlot.Series($"layer {l}", r.Select(x => (double)x.Step).ToList(), r.Select(x => x.LambdaMax / x.ThetaW).ToList());
            }).ToList();
            ratio.Add(new LinePlot.Series("growth threshold (1)", [0.0, steps], [1.0, 1.0]));
            panels.Add(new($"{prefix}residual energy λmax / θ_w (growth when > 1)", "optimizer step", "λmax / θ_w", ratio));
        }
        panels.Add(new($"{prefix}validation accuracy", "optimizer step", "accuracy",
            [new LinePlot.Series("validation", evaluations.Select(e => (double)e.Step).ToList(), evaluations.Select(e => e.Accuracy).ToList())]));
        LinePlot.Save(path, panels);
    }
}
