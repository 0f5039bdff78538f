using System.Text.Json;
using Incrt.Attention;

namespace Incrt.Control;

/// <summary>
/// Loss-aware growth [ours; the plateau trigger follows the "grow when progress stalls" family, the keep test is the
/// masking importance of Michel et al. 2019]: when the mean training loss of the last
/// <see cref="LossAwareOptions.PlateauSteps"/> steps improved on the window before by less than
/// <see cref="LossAwareOptions.PlateauImprovement"/>, add one function-preserving head (zero output projection: the
/// model's function is unchanged) on trial. Every <see cref="LossAwareOptions.ProbeEverySteps"/> steps the trial head is
/// masked on the probe batch; it is kept at the first probe where masking it raises the probe loss by a useful amount
/// (<see cref="LossAwareOptions.IsUseful"/>). A head that is still not useful after <see cref="LossAwareOptions.TrialSteps"/>
/// is withdrawn and the layer stops growing: the task did not need it. A prune by another rule also stops growth (the
/// layer had a head too many), so the two rules cannot churn.
/// </summary>
/// <remarks>Cost: two probe forwards every <see cref="LossAwareOptions.ProbeEverySteps"/> steps while a trial runs, nothing
/// otherwise. Needs <see cref="HeadController.LossProbe"/>.</remarks>
public sealed class LossPlateauGrowthRule : IGrowthRule
{
    private readonly LossAwareOptions _o;
    private readonly HeadInit _init;
    private PlateauState _s = new();

    /// <summary>Creates the rule for one layer.</summary>
    /// <param name="options">Settings (validated).</param>
    /// <param name="newHead">Initialisation of trial heads; must have a zero output projection. Null: <see cref="HeadInit.FunctionPreserving"/>.</param>
    public LossPlateauGrowthRule(LossAwareOptions options, HeadInit? newHead = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _init = newHead ?? HeadInit.FunctionPreserving;
        if (!_init.ZeroOutput)
            throw new ArgumentException("A trial head must not change the model's function: use an initialisation with a zero output projection.", nameof(newHead));
        _o = options;
    }

    /// <inheritdoc />
    public string Name => "loss-plateau";

    /// <summary>Whether the layer has settled: growth stopped (<see cref="LossAwareOptions.MaxWithdrawals"/> withdrawn
    /// trial heads in a row, or a prune by another rule), or the last trial head was withdrawn and none is on trial now —
    /// the layer was at a plateau and one more head did not help, so removal trials are meaningful.</summary>
    public bool Stopped => _s.Phase == PlateauPhase.Stopped || _s.Phase == PlateauPhase.Watching && _s.Withdrawals > 0;

    /// <inheritdoc />
    public IReadOnlyCollection<long> HeadsOnTrial => _s.Phase == PlateauPhase.Trial ? new[] { _s.TrialHead } : Array.Empty<long>();

    /// <inheritdoc />
    public RuleReadings Readings => RuleReadings.Empty;

    /// <inheritdoc />
    public void ObserveStep(long step, double loss)
    {
        if (!double.IsFinite(loss)) return;
        if (_s.WindowCount == 0) _s.WindowStart = step;
        _s.WindowSum += loss;
        _s.WindowCount++;
        if (step - _s.WindowStart + 1 < _o.PlateauSteps) return;
        _s.PreviousMean = _s.LastMean;
        _s.LastMean = _s.WindowSum / _s.WindowCount;
        _s.Windows++;
        _s.WindowSum = 0;
        _s.WindowCount = 0;
    }

    /// <inheritdoc />
    public RuleVerdict ProposeGrowth(LayerCall call)
    {
        ArgumentNullException.ThrowIfNull(call);
        _s.ReferenceLoss ??= RuleGuards.FiniteProbeLoss(call);       // L₀, once; throws the message that names a missing probe
        if (_s.ReferenceLoss is null) return RuleVerdict.Skip("probe");
        return _s.Phase switch
        {
            PlateauPhase.Stopped => RuleVerdict.None("stopped"),
            PlateauPhase.Trial => Judge(call),
            _ => Watch(call),
        };
    }

    private RuleVerdict Watch(LayerCall call)
    {
        if (_s.PreviousMean is not { } before || _s.LastMean is not { } after || _s.Windows == _s.CheckedWindows) return RuleVerdict.None();
        _s.CheckedWindows = _s.Windows;
        double improvement = (before - after) / Math.Max(Math.Abs(before), 1e-12);
        if (improvement >= _o.PlateauImprovement) return RuleVerdict.None("improving");
        if (_o.StartAtStep is { } first && call.Step < first) return RuleVerdict.None("warm-up");
        if (_o.FreezeAtStep is { } last && call.Step > last) return RuleVerdict.None("frozen");
        if (call.Layer.HeadCount >= call.Layer.Options.MaxHeads) return RuleVerdict.None("max-heads");
        if (!RuleGuards.ParametersFinite(call.Layer)) return RuleVerdict.Skip("weights");
        return RuleVerdict.Grow(_init, improvement);
    }

    private RuleVerdict Judge(LayerCall call)
    {
        int index = RuleGuards.IndexOf(call.Layer, _s.TrialHead);
        if (index < 0)
        {
            _s.Phase = PlateauPhase.Watching;        // removed from outside: nothing left to judge
            return RuleVerdict.None();
        }
        if (call.Step - _s.LastProbeStep < _o.ProbeEverySteps) return RuleVerdict.None("trial");
        if (!RuleGuards.ParametersFinite(call.Layer)) return RuleVerdict.Skip("weights");
        double baseLoss = call.ProbeLoss(Array.Empty<int>());
        double masked = call.ProbeLoss(new[] { index });
        if (!double.IsFinite(baseLoss) || !double.IsFinite(masked)) return RuleVerdict.Skip("probe");
        _s.LastProbeStep = call.Step;
        double increase = masked - baseLoss;
        if (_o.IsUseful(increase, _s.ReferenceLoss!.Value))
        {
            _s.Phase = PlateauPhase.Watching;
            _s.Withdrawals = 0;
            _s.CheckedWindows = _s.Windows;          // the next plateau must be seen in a window that ends after the keep
            if (_o.GrowAfterKeep && call.Layer.HeadCount < call.Layer.Options.MaxHeads)
                return RuleVerdict.Grow(_init, increase, "kept+grew");
            return new RuleVerdict(RuleAction.None, "kept", index, null, increase);
        }
        if (call.Step - _s.TrialStart < _o.TrialSteps) return RuleVerdict.None("trial");
        _s.Withdrawals++;
        _s.Phase = _s.Withdrawals >= _o.MaxWithdrawals ? PlateauPhase.Stopped : PlateauPhase.Watching;
        _s.CheckedWindows = _s.Windows;
        return RuleVerdict.Prune(index, increase, "withdrawn");
    }

    /// <inheritdoc />
    public void OnHeadAdded(LayerCall call, int index, long headId, bool byThisRule)
    {
        if (!byThisRule) return;
        _s.Phase = PlateauPhase.Trial;
        _s.TrialHead = headId;
        _s.TrialStart = call.Step;
        _s.LastProbeStep = call.Step;
    }

    /// <inheritdoc />
    public void OnHeadRemoved(LayerCall call, int index, long headId, bool byThisRule)
    {
        if (!byThisRule) _s.Phase = PlateauPhase.Stopped;   // another rule found a head too many: growing again would churn
    }

    /// <inheritdoc />
    public JsonElement ExportState() => JsonSerializer.SerializeToElement(_s with { });

    /// <inheritdoc />
    public void ImportState(JsonElement state)
    {
        var s = state.Deserialize<PlateauState>() ?? throw new ArgumentException("The loss-plateau rule state is empty.", nameof(state));
        if (s.WindowCount < 0 || !double.IsFinite(s.WindowSum))
            throw new ArgumentException("The loss-plateau rule state has an invalid loss window.", nameof(state));
        _s = s;
    }

    /// <inheritdoc />
    public void Dispose() { }
}

/// <summary>Phases of <see cref="LossPlateauGrowthRule"/>.</summary>
internal enum PlateauPhase
{
    /// <summary>Waiting for a loss plateau.</summary>
    Watching,
    /// <summary>A trial head is being judged.</summary>
    Trial,
    /// <summary>The layer no longer grows.</summary>
    Stopped,
}

/// <summary>The state of a <see cref="LossPlateauGrowthRule"/> (checkpoints).</summary>
internal sealed record PlateauState
{
    public PlateauPhase Phase { get; set; }
    public long WindowStart { get; set; }
    public double WindowSum { get; set; }
    public int WindowCount { get; set; }
    public double? PreviousMean { get; set; }
    public double? LastMean { get; set; }
    public long Windows { get; set; }
    public long CheckedWindows { get; set; }
    public long TrialHead { get; set; } = -1;
    public long TrialStart { get; set; }
    public long LastProbeStep { get; set; }
    public double? ReferenceLoss { get; set; }
    public int Withdrawals { get; set; }
}
