using System.CommandLine;
using System.Globalization;
using Incrt.Control;
using Incrt.Samples.Common;
using Incrt.Tasks.Planted;

namespace Incrt.Planted;

/// <summary>The sweep's command line (System.CommandLine): the <c>--quick</c> preset first, then every option given
/// explicitly overrides it. Settings the construction cannot satisfy (K above Length, …) are rejected here, before
/// anything is trained or written.</summary>
internal static class PlantedCommandLine
{
    /// <summary>The root command; its action maps the options to <see cref="PlantedSettings"/> and calls
    /// <paramref name="run"/>, whose result is the exit code.</summary>
    public static RootCommand Create(Func<PlantedSettings, int> run, TextWriter error, IReadOnlyList<string>? args = null)
    {
        ArgumentNullException.ThrowIfNull(run);
        var d = new PlantedSettings();
        var quick = new Option<bool>("--quick") { Description = "Smoke run: offset retrieval, K 1,2, seed 1, 64 values, 400 steps of 64 (out runs/planted-quick); explicit options win." };
        var families = ListOption.Create<PlantedFamily>("--family", "Families (default both): offset (offset retrieval) and/or segment (segment retrieval).",
            "offset|segment[,…]", TryFamily, "a comma-separated list of offset, segment");
        var ks = ListOption.Integers("--k", $"Planted head counts K (default {string.Join(',', d.Ks)}); each at most --length.", minimum: 1);
        var seeds = ListOption.Integers("--seeds", $"Seeds: the task (offsets, examples) and the model initialisation (default {string.Join(',', d.Seeds)}).");
        var steps = IntegerOption.AtLeast("--steps", $"Optimizer steps per run (default {d.Steps}).", 1);
        var incrtSteps = IntegerOption.AtLeast("--incrt-steps", "Optimizer steps of the INCRT runs (default 2 × --steps: growth is sequential).", 1);
        var batch = IntegerOption.AtLeast("--batch", $"Examples per step, fresh every step (default {d.BatchSize}).", 1);
        var lr = new Option<double?>("--lr") { Description = string.Create(CultureInfo.InvariantCulture, $"Peak AdamW learning rate (default {d.LearningRate}).") };
        var values = IntegerOption.AtLeast("--values", $"Offset retrieval: token values = classes per read-out (default {d.Values}).", 2);
        var length = IntegerOption.AtLeast("--length", $"Offset retrieval: random tokens after [CLS], at least the largest K (default {d.Length}).", 1);
        var segmentSize = IntegerOption.AtLeast("--segment-size", $"Segment retrieval: positions per segment, at least 2; the sequence holds K segments (default {d.SegmentSize}).", 1);
        var fillers = IntegerOption.AtLeast("--fillers", $"Segment retrieval: filler tokens (default {d.Fillers}).", 1);
        var dModel = IntegerOption.AtLeast("--dmodel", $"Model width d_model (default {d.DModel}).", 1);
        var headDim = IntegerOption.AtLeast("--head-dim", $"Per-head width d_k = d_v (default {d.HeadDim}).", 1);
        var maxHeads = IntegerOption.AtLeast("--max-heads", $"Head cap of the INCRT runs (default {d.MaxHeads}).", 1);
        var factor = IntegerOption.AtLeast("--fixed-factor", $"Fixed-H curve: H = 1 … factor·K (default {d.FixedFactor}).", 1);
        var heads = ListOption.Integers("--heads", "Probe: train only these fixed head counts (default all of 1 … factor·K).", minimum: 1);
        var postNorm = new Option<bool>("--post-norm") { Description = "Post-norm blocks (a LayerNorm between the heads and the read-outs) instead of the default pre-norm." };
        var startFactor = IntegerOption.AtLeast("--incrt-start", "INCRT runs start with this many heads per K; 0 (default) = one head, 2 = 2K heads (does the controller prune down?).", 0);
        var noFixed = new Option<bool>("--no-fixed") { Description = "Skip the fixed-H curves (then minimalHeads is not measured)." };
        var noIncrt = new Option<bool>("--no-incrt") { Description = "Skip the INCRT runs grown from one head." };
        var workers = IntegerOption.AtLeast("--workers", $"Runs trained at the same time, one torch thread each (default {d.Workers}).", 1);
        var output = new Option<string?>("--out") { Description = $"Output folder for results.json, knee.md and knee.png (default {d.Out})." };
        var threads = IntegerOption.AtLeast("--threads", $"Torch intra-op threads (default {d.Threads}; 0 = torch default).", 0);
        var device = new Option<string?>("--device") { Description = $"cpu, cuda, cuda:N or auto (default {d.Device}).", HelpName = "cpu|cuda|cuda:N|auto" };
        var thresholds = new Option<ThresholdMode?>("--thresholds") { Description = "Controller thresholds of the INCRT runs: relative (default), relativepositive or calibrated.", HelpName = "relative|relativepositive|calibrated" };
        var shard = new Option<string?>("--shard") { Description = "Worker mode (set by --workers): i/n runs every n-th job from the i-th.", Hidden = true };
        var outcomes = new Option<string?>("--outcomes") { Description = "Worker mode (set by --workers): JSON-lines file for the outcomes.", Hidden = true };
        var prune = new Option<PruneStatistic?>("--prune") { Description = "Override the preset's prune statistic: Reference, MinorDirection, LeaveOneOut, MaskedLoss or None.", HelpName = "reference|minordirection|leaveoneout|maskedloss|none" };
        var plateauImprovement = new Option<double?>("--plateau-improvement") { Description = "Loss-aware growth: a plateau is a window whose mean loss improved by less than this fraction." };
        var plateauSteps = IntegerOption.AtLeast("--plateau-steps", "Loss-aware growth: steps per loss window.", 1);
        var trialSteps = IntegerOption.AtLeast("--trial-steps", "Loss-aware growth: steps a trial head gets to become useful.", 1);
        var probeEvery = IntegerOption.AtLeast("--probe-every", "Loss-aware growth: steps between masking probes of a trial head.", 1);
        var pruneEvery = IntegerOption.AtLeast("--prune-every", "Loss-aware pruning: steps between two prune checks.", 1);
        var probeExamples = IntegerOption.AtLeast("--probe-examples", "Loss-aware rules: examples in the probe batch (default 128).", 1);
        var maxPruneEvery = IntegerOption.AtLeast("--max-prune-every", "Loss-aware pruning: longest gap between prune checks once they find nothing to act on; 0 = every --prune-every steps (default: the preset's, 3200).", 0);
        var pruneProbeHeads = IntegerOption.AtLeast("--prune-probe-heads", "Loss-aware pruning: most heads masked per prune check; 0 = every candidate (default: the preset's, 4).", 0);
        var usefulFraction = new Option<double?>("--useful-fraction") { Description = "Loss-aware rules: a head is useful when masking it raises the probe loss by at least this fraction of the untrained model's loss (and 0.02)." };
        var growAfterKeep = new Option<bool?>("--grow-after-keep") { Description = "Loss-aware growth: put the next head on trial as soon as one is kept (true) or wait for the next plateau (false)." };
        var curves = new Option<string?>("--curves") { Description = "With --no-fixed: take each configuration's fixed-H curve (and so its knee) from this earlier results.json.", HelpName = "results.json" };
        var maxWithdrawals = IntegerOption.AtLeast("--max-withdrawals", "Loss-aware growth: withdrawn trial heads in a row after which growth stops.", 1);
        var controller = new Option<string?>("--controller") { Description = $"Controller preset of the INCRT runs: energy, loss or paper (default {d.ControllerPreset}; docs/algorithm.md §6).", HelpName = "energy|loss|paper" };

        var root = new RootCommand("INCRT planted tasks: families whose minimal head count K is known by construction; measures the knee of the fixed-H curve and where the controller, grown from one head, lands.");
        foreach (var o in new Option[] { quick, families, ks, seeds, steps, incrtSteps, batch, lr, values, length, segmentSize, fillers, dModel, headDim, maxHeads, factor, heads, startFactor, postNorm, noFixed, noIncrt, workers, output, threads, device, thresholds, prune, controller, curves, plateauImprovement, plateauSteps, trialSteps, probeEvery, pruneEvery, maxPruneEvery, pruneProbeHeads, probeExamples, growAfterKeep, maxWithdrawals, usefulFraction, shard, outcomes })
            root.Options.Add(o);
        root.SetAction(p =>
        {
            var s = new PlantedSettings();
            if (p.GetValue(quick)) s = s.WithQuickPreset();
            (int, int)? shardValue;
            try { shardValue = ParseShard(p.GetValue(shard)); }
            catch (ArgumentException e) { error.WriteLine($"error: {e.Message}"); return SampleCommandLine.UsageErrorExitCode; }
            s = s with
            {
                Families = Given(p.GetValue(families)) ?? s.Families,
                Ks = Given(p.GetValue(ks)) ?? s.Ks,
                Seeds = Given(p.GetValue(seeds)) ?? s.Seeds,
                Steps = p.GetValue(steps) ?? s.Steps,
                IncrtSteps = p.GetValue(incrtSteps) ?? s.IncrtSteps,
                BatchSize = p.GetValue(batch) ?? s.BatchSize,
                LearningRate = p.GetValue(lr) ?? s.LearningRate,
                Values = p.GetValue(values) ?? s.Values,
                Length = p.GetValue(length) ?? s.Length,
                SegmentSize = p.GetValue(segmentSize) ?? s.SegmentSize,
                Fillers = p.GetValue(fillers) ?? s.Fillers,
                DModel = p.GetValue(dModel) ?? s.DModel,
                HeadDim = p.GetValue(headDim) ?? s.HeadDim,
                MaxHeads = p.GetValue(maxHeads) ?? s.MaxHeads,
                FixedFactor = p.GetValue(factor) ?? s.FixedFactor,
                Fixed = !p.GetValue(noFixed),
                PreNorm = !p.GetValue(postNorm),
                Heads = Given(p.GetValue(heads)),
                IncrtStartFactor = p.GetValue(startFactor) ?? s.IncrtStartFactor,
                Incrt = !p.GetValue(noIncrt),
                Workers = p.GetValue(workers) ?? s.Workers,
                Out = p.GetValue(output) ?? s.Out,
                Threads = p.GetValue(threads) ?? s.Threads,
                Device = p.GetValue(device) ?? s.Device,
                ControllerPreset = p.GetValue(controller) ?? s.ControllerPreset,
                PlateauImprovement = p.GetValue(plateauImprovement) ?? s.PlateauImprovement,
                PlateauSteps = p.GetValue(plateauSteps) ?? s.PlateauSteps,
                TrialSteps = p.GetValue(trialSteps) ?? s.TrialSteps,
                ProbeEverySteps = p.GetValue(probeEvery) ?? s.ProbeEverySteps,
                PruneEverySteps = p.GetValue(pruneEvery) ?? s.PruneEverySteps,
                PruneProbeHeads = p.GetValue(pruneProbeHeads) ?? s.PruneProbeHeads,
                MaxPruneEverySteps = p.GetValue(maxPruneEvery) ?? s.MaxPruneEverySteps,
                ProbeExamples = p.GetValue(probeExamples) ?? s.ProbeExamples,
                GrowAfterKeep = p.GetValue(growAfterKeep) ?? s.GrowAfterKeep,
                MaxWithdrawals = p.GetValue(maxWithdrawals) ?? s.MaxWithdrawals,
                UsefulFraction = p.GetValue(usefulFraction) ?? s.UsefulFraction,
                ThresholdMode = p.GetValue(thresholds) ?? s.ThresholdMode,
                Prune = p.GetValue(prune) ?? s.Prune,
                Shard = shardValue,
                OutcomesFile = p.GetValue(outcomes),
                CommandLine = args?.ToArray(),
            };
            if (p.GetValue(curves) is { } curvesFile)
            {
                try { s = s with { PriorCurves = PriorCurves.Load(curvesFile), CurvesFile = curvesFile }; }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException or FormatException)
                {
                    error.WriteLine($"error: --curves {curvesFile}: {e.Message}");
                    return SampleCommandLine.UsageErrorExitCode;
                }
            }
            if (s.Problem() is { } problem)
            {
                error.WriteLine($"error: {problem}");
                return SampleCommandLine.UsageErrorExitCode;
            }
            return run(s);
        });
        return root;
    }

    private static (int, int)? ParseShard(string? text)
    {
        if (text is null) return null;
        var parts = text.Split('/');
        if (parts.Length == 2 && int.TryParse(parts[0], CultureInfo.InvariantCulture, out int i) && int.TryParse(parts[1], CultureInfo.InvariantCulture, out int n) && n >= 1 && i >= 0 && i < n)
            return (i, n);
        throw new ArgumentException($"--shard takes i/n with 0 ≤ i < n; got '{text}'.");
    }

    private static bool TryFamily(string text, out PlantedFamily family)
    {
        switch (text.ToLowerInvariant())
        {
            case "offset": case "offsetretrieval": family = PlantedFamily.OffsetRetrieval; return true;
            case "segment": case "segmentretrieval": family = PlantedFamily.SegmentRetrieval; return true;
            default: family = default; return false;
        }
    }

    private static T[]? Given<T>(T[]? values) => values is { Length: > 0 } ? values : null;
}
