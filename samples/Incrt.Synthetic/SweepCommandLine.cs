using System.CommandLine;
using Incrt.Control;
using Incrt.Energy;
using Incrt.Samples.Common;

namespace Incrt.Synthetic;

/// <summary>The sweep's command line (System.CommandLine): presets <c>--quick</c> and <c>--fit</c>, then any option
/// given explicitly overrides the preset's value.</summary>
internal static class SweepCommandLine
{
    /// <summary>The root command; its action maps the parsed options to <see cref="SweepSettings"/> and calls
    /// <paramref name="run"/>, whose result is the exit code.</summary>
    public static RootCommand Create(Func<SweepSettings, int> run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var d = new SweepSettings();
        var quick = new Option<bool>("--quick") { Description = "Smoke run: K 1,4 × seed 1 × noise 0, 3 epochs of 2,000 examples, d_model 32, head_dim 8 (out runs/synthetic-quick); explicit options win." };
        var fit = new Option<bool>("--fit") { Description = "The predictor's fitting set: K 1,4,16 × seed 100 × noise 0 (disjoint from the sweep's seeds), no fixed-K runs (out runs/synthetic-fit); then prints the best constant per complexity measure." };
        var ks = ListOption.Integers("--k", $"Planted relation counts K (default {string.Join(',', d.Ks)}).", minimum: 1);
        var seeds = ListOption.Integers("--seeds", $"Seeds (default {string.Join(',', d.Seeds)}).");
        var noise = ListOption.Numbers("--noise", $"Label-noise levels (default {string.Join(',', d.Noises)}).", 0, 1);
        var epochs = IntegerOption.AtLeast("--epochs", $"Training epochs (default {d.Epochs}).", 1);
        var dModel = IntegerOption.AtLeast("--dmodel", $"Model width d_model (default {d.DModel}).", 1);
        var headDim = IntegerOption.AtLeast("--head-dim", $"Per-head width (default {d.HeadDim}).", 1);
        var examples = IntegerOption.AtLeast("--examples", $"Training examples per configuration (default {d.Examples}).", 1);
        var output = new Option<string?>("--out") { Description = $"Output folder for results.json, results.csv and heads.png (default {d.Out})." };
        var threads = IntegerOption.AtLeast("--threads", $"Torch intra-op threads (default {d.Threads}; 0 = torch default).", 0);
        var device = new Option<string?>("--device") { Description = $"cpu, cuda, cuda:N or auto (default {d.Device}).", HelpName = "cpu|cuda|cuda:N|auto" };
        var noFixed = new Option<bool>("--no-fixed") { Description = "Skip the fixed-K comparison run per configuration." };
        var thresholds = new Option<ThresholdMode?>("--thresholds") { Description = "Controller thresholds: relative (default), relativepositive (θ_w from the operator's positive part) or calibrated (the paper's literal choice, docs/algorithm.md §4).", HelpName = "relative|relativepositive|calibrated" };
        var estimator = new Option<EstimatorMode?>("--estimator") { Description = "Residual-energy estimator: exact (default) or online (Oja/MCA, the paper's literal choice, docs/algorithm.md §3).", HelpName = "exact|online" };
        var prune = new Option<PruneStatistic?>("--prune") { Description = "Controller prune statistic: Reference (default), MinorDirection, LeaveOneOut or None (docs/algorithm.md §4).", HelpName = "reference|minordirection|leaveoneout|none" };
        var pruneRatio = new Option<double?>("--prune-ratio") { Description = "With --prune leaveoneout: redundant when λmax without the head ≤ this fraction of θ_w (default 1)." };

        var root = new RootCommand("INCRT synthetic sweep (Theorems 1 and 2): K planted directed relations; does the controller, grown from one head, stop where Theorem 1 says and where the predictor says (K*)?");
        foreach (var o in new Option[] { quick, fit, ks, seeds, noise, epochs, dModel, headDim, examples, output, threads, device, noFixed, thresholds, estimator, prune, pruneRatio })
            root.Options.Add(o);
        root.SetAction(p =>
        {
            var s = new SweepSettings();
            if (p.GetValue(quick)) s = s.WithQuickPreset();
            if (p.GetValue(fit)) s = s.WithFitPreset();
            s = s with
            {
                Ks = Given(p.GetValue(ks)) ?? s.Ks,
                Seeds = Given(p.GetValue(seeds)) ?? s.Seeds,
                Noises = Given(p.GetValue(noise)) ?? s.Noises,
                Epochs = p.GetValue(epochs) ?? s.Epochs,
                DModel = p.GetValue(dModel) ?? s.DModel,
                HeadDim = p.GetValue(headDim) ?? s.HeadDim,
                Examples = p.GetValue(examples) ?? s.Examples,
                Out = p.GetValue(output) ?? s.Out,
                Threads = p.GetValue(threads) ?? s.Threads,
                Device = p.GetValue(device) ?? s.Device,
                Fixed = s.Fixed && !p.GetValue(noFixed),
                ThresholdMode = p.GetValue(thresholds) ?? s.ThresholdMode,
                EstimatorMode = p.GetValue(estimator) ?? s.EstimatorMode,
                Prune = p.GetValue(prune) ?? s.Prune,
                PruneRatio = p.GetValue(pruneRatio) ?? s.PruneRatio,
            };
            return run(s.WithVocabularyForKs());
        });
        return root;
    }

    private static T[]? Given<T>(T[]? values) => values is { Length: > 0 } ? values : null;
}
