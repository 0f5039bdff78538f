using Incrt.Energy;

namespace Incrt.Control;

/// <summary>Everything a <see cref="HeadController"/> needs to continue exactly where it stopped (checkpoints).</summary>
/// <param name="Calls">Controller calls made so far.</param>
/// <param name="LastStep">The last step passed to <see cref="HeadController.Step"/>, or null before the first.</param>
/// <param name="Layers">Per-layer state, in the controller's layer order.</param>
/// <param name="Trace">Every trace row so far.</param>
/// <param name="RuleStates">Per layer, the states of its rules other than the energy rule (growth rule first); null in
/// checkpoints written before rules were objects.</param>
/// <param name="Decisions">Per layer, the last decision label; null in older checkpoints (the energy state's label is used).</param>
internal sealed record ControllerState(long Calls, long? LastStep, IReadOnlyList<LayerControlState?> Layers, IReadOnlyList<TraceRow> Trace,
    IReadOnlyList<IReadOnlyList<System.Text.Json.JsonElement>>? RuleStates = null, IReadOnlyList<string>? Decisions = null);

/// <summary>One layer's energy-rule state (<see cref="EnergyRule"/>); null for a layer without the energy rule.</summary>
/// <param name="HeadIds">Head ids of the layer when the state was taken (checked on import).</param>
/// <param name="Dimension">d.</param>
/// <param name="BasisColumns">Columns of Q (each of length d), in order.</param>
/// <param name="ColumnOwner">Head id owning each Q column.</param>
/// <param name="Estimator">u+, u− and the redraw counter.</param>
/// <param name="TrackerDType">Dtype of the tracker vectors.</param>
/// <param name="CalibrationNorms">‖A_res‖_F values collected for Γ(0).</param>
/// <param name="Gamma0">Γ(0), once calibrated (null with an explicit θ_w).</param>
/// <param name="Thresholds">Thresholds in force, or null before calibration.</param>
/// <param name="LastReading">The last finite reading.</param>
/// <param name="CallsSinceChange">Calls since this layer last changed.</param>
/// <param name="CallsSinceGrowth">Calls since this layer last grew (dwell timer).</param>
/// <param name="LastDwell">The last dwell time T_d.</param>
/// <param name="LastDecision">Last decision label (trace).</param>
/// <param name="LastStatistics">Last per-head prune statistics (+∞ for a head grown since).</param>
/// <param name="BelowCount">Head id → consecutive calls below φ_g.</param>
/// <param name="BirthCall">Head id → call it was born.</param>
internal sealed record LayerControlState(
    IReadOnlyList<long> HeadIds,
    int Dimension,
    IReadOnlyList<double[]> BasisColumns,
    IReadOnlyList<long> ColumnOwner,
    EstimatorState Estimator,
    TorchSharp.torch.ScalarType TrackerDType,
    IReadOnlyList<double> CalibrationNorms,
    double? Gamma0,
    EnergyThresholds? Thresholds,
    SpectrumReading? LastReading,
    long CallsSinceChange,
    long CallsSinceGrowth,
    long LastDwell,
    string LastDecision,
    double[] LastStatistics,
    IReadOnlyDictionary<long, int> BelowCount,
    IReadOnlyDictionary<long, long> BirthCall);
