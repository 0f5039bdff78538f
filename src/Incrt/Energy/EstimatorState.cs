namespace Incrt.Energy;

/// <summary>Checkpoint of a <see cref="DirectionalEnergyEstimator"/>: tracker vectors and the random-draw counter.</summary>
/// <param name="Dimension">d.</param>
/// <param name="Seed">The options' seed at export time (informational; the importing estimator keeps its own).</param>
/// <param name="Draws">Number of random draws made so far (keeps future <see cref="DirectionalEnergyEstimator.Redraw"/> calls reproducible).</param>
/// <param name="UPlus">u+ as doubles (length d).</param>
/// <param name="UMinus">u− as doubles (length d).</param>
public sealed record EstimatorState(int Dimension, long Seed, long Draws, double[] UPlus, double[] UMinus);
