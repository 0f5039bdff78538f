using Incrt.Control;

namespace Incrt.Samples.Common;

/// <summary>
/// The samples' <c>--controller energy|loss|paper</c> option: the name → <see cref="ControllerPresets"/> mapping and the
/// rule that explicit <c>--thresholds</c>/<c>--prune</c>/<c>--prune-ratio</c> options override the preset's fields, in one
/// place for every sample that trains a classifier (SST-2, SARS-CoV-2).
/// </summary>
public static class ControllerChoice
{
    /// <summary>The option's name, as it appears on the command line and in error messages.</summary>
    public const string OptionName = "--controller";

    /// <summary>The preset a run uses when <c>--controller</c> is not given: loss-aware in every sample, by measurement
    /// (same scores as energy at one head instead of 13–26; samples/Incrt.Sst2 and samples/Incrt.SarsCov2 READMEs).</summary>
    public const string Default = Loss;

    /// <summary><see cref="ControllerPresets.Energy"/> (<c>new ControllerOptions()</c>).</summary>
    public const string Energy = "energy";

    /// <summary><see cref="ControllerPresets.LossAware"/> (loss-plateau growth, masked-loss pruning).</summary>
    public const string Loss = "loss";

    /// <summary><see cref="ControllerPresets.Paper"/> (the paper-literal settings).</summary>
    public const string Paper = "paper";

    /// <summary>Fraction of the run's optimizer steps after which the loss-aware rules start no new trial or prune (a late change leaves no
    /// time to recover; <see cref="LossAwareOptions.FreezeAtStep"/>).</summary>
    public const double FreezeFraction = 0.85;

    /// <summary>Fraction of the run's steps before which the loss-aware rules wait (the samples warm the learning rate up
    /// over the first 10% of steps; <see cref="LossAwareOptions.StartAtStep"/>).</summary>
    public const double WarmupFraction = 0.1;

    /// <summary>The accepted names, in the order the help lists them.</summary>
    public static IReadOnlyList<string> Names { get; } = [Energy, Loss, Paper];

    /// <summary>Help text of the option.</summary>
    public static string Description { get; } =
        "Controller preset (docs/algorithm.md §8): loss (loss-plateau growth of a trial head kept only if masking it costs " +
        "loss, masked-loss pruning), energy (directional-energy growth and reference pruning) or paper (the paper-literal " +
        $"settings). Explicit --thresholds/--prune options override the preset's fields. Default {Default}.";

    /// <summary>Whether <paramref name="name"/> is one of <see cref="Names"/> (case-insensitive).</summary>
    public static bool IsValid(string? name) => name is not null && Names.Contains(name.Trim().ToLowerInvariant());

    /// <summary>The message of an invalid value, naming the option.</summary>
    public static string InvalidMessage(string? name) =>
        $"{OptionName} must be one of {string.Join(", ", Names)}; got '{name}'.";

    /// <summary>Throws an <see cref="ArgumentException"/> naming <c>--controller</c> when <paramref name="name"/> is not
    /// a preset name.</summary>
    public static void Validate(string? name)
    {
        if (!IsValid(name)) throw new ArgumentException(InvalidMessage(name));
    }

    /// <summary>The canonical (lower-case) preset name of <paramref name="name"/>.</summary>
    public static string Normalize(string name)
    {
        Validate(name);
        return name.Trim().ToLowerInvariant();
    }

    /// <summary>The preset called <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">Not one of <see cref="Names"/>; the message names <c>--controller</c>.</exception>
    public static ControllerOptions Preset(string name) => Normalize(name) switch
    {
        Loss => ControllerPresets.LossAware,
        Paper => ControllerPresets.Paper,
        _ => ControllerPresets.Energy,
    };

    /// <summary>Whether <paramref name="options"/> uses a loss-aware rule (and so needs a loss probe and a freeze step).</summary>
    public static bool IsLossAware(ControllerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Growth == GrowthSignal.LossPlateau || options.Prune == PruneStatistic.MaskedLoss;
    }

    /// <summary>
    /// The controller options of a run: the preset <paramref name="name"/>, with each override that is not null replacing
    /// the preset's field, and — when a loss-aware rule is in use — no new loss-aware trial or prune after
    /// <see cref="FreezeFraction"/> of <paramref name="totalSteps"/>.
    /// </summary>
    /// <param name="name">Preset name (energy, loss, paper).</param>
    /// <param name="totalSteps">Optimizer steps of the whole run.</param>
    /// <param name="thresholds">Explicit <c>--thresholds</c>, or null for the preset's.</param>
    /// <param name="prune">Explicit <c>--prune</c>, or null for the preset's.</param>
    /// <param name="leaveOneOutRatio">Explicit <c>--prune-ratio</c>, or null for the preset's.</param>
    /// <param name="probeEvery">Explicit <c>--probe-every</c> (<see cref="LossAwareOptions.ProbeEverySteps"/>), or null.</param>
    /// <param name="pruneEvery">Explicit <c>--prune-every</c> (<see cref="LossAwareOptions.PruneEverySteps"/>), or null.</param>
    /// <param name="trialSteps">Explicit <c>--trial-steps</c> (<see cref="LossAwareOptions.TrialSteps"/>), or null.</param>
    public static ControllerOptions Build(string name, long totalSteps, ThresholdMode? thresholds = null, PruneStatistic? prune = null,
        double? leaveOneOutRatio = null, int? probeEvery = null, int? pruneEvery = null, int? trialSteps = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(totalSteps);
        var preset = Preset(name);
        var options = preset with
        {
            Thresholds = thresholds ?? preset.Thresholds,
            Prune = prune ?? preset.Prune,
            LeaveOneOutRatio = leaveOneOutRatio ?? preset.LeaveOneOutRatio,
        };
        return IsLossAware(options)
            ? options with
            {
                LossAware = options.LossAware with
                {
                    FreezeAtStep = (long)(FreezeFraction * totalSteps), StartAtStep = (long)(WarmupFraction * totalSteps),
                    ProbeEverySteps = probeEvery ?? options.LossAware.ProbeEverySteps,
                    PruneEverySteps = pruneEvery ?? options.LossAware.PruneEverySteps,
                    TrialSteps = trialSteps ?? options.LossAware.TrialSteps,
                },
            }
            : options;
    }

    /// <summary>What a results file records about the controller that ran: the preset name and the fields that tell the
    /// presets apart (growth signal, prune statistic, thresholds, new-head initialisation, the loss-aware freeze step).</summary>
    public static object Describe(string name, ControllerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new
        {
            preset = Normalize(name),
            growth = options.Growth.ToString(),
            prune = options.Prune.ToString(),
            thresholds = options.Thresholds.ToString(),
            newHead = options.NewHead.ToString(),
            lossAware = IsLossAware(options) ? options.LossAware : null,
        };
    }
}
