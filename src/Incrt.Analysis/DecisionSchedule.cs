using Incrt.Control;
using Incrt.Training;

namespace Incrt.Theory;

/// <summary>Which training batches the controller will decide on, known before training from the batch order.</summary>
public static class DecisionSchedule
{
    /// <summary>
    /// The batch of every controller decision call after calibration, in call order: <see cref="Training.Trainer"/> calls
    /// the controller after global step s (from 0, epoch after epoch through <paramref name="train"/>), a call happens when
    /// (s + 1) is a multiple of <see cref="ControllerOptions.Interval"/>, and the first
    /// <see cref="ControllerOptions.CalibrationCalls"/> calls only calibrate (none with an explicit θ_w). Lazy; batches not yielded are disposed here,
    /// yielded ones belong to the caller (<see cref="HeadCountPredictor.Predict"/> disposes them).
    /// </summary>
    /// <param name="train">The training batcher the run will use (its epoch order is deterministic).</param>
    /// <param name="epochs">Training epochs.</param>
    /// <param name="options">The controller options of the run.</param>
    public static IEnumerable<SequenceBatch> Batches(LengthBucketBatcher train, int epochs, ControllerOptions options)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        if (epochs < 0) throw new ArgumentOutOfRangeException(nameof(epochs), epochs, "epochs must be ≥ 0.");
        return Iterate(train, epochs, options);
    }

    private static IEnumerable<SequenceBatch> Iterate(LengthBucketBatcher train, int epochs, ControllerOptions options)
    {
        // With an explicit θ_w the controller has thresholds from the start and never calibrates.
        int calibration = options.ThetaW is null ? options.CalibrationCalls : 0;
        long step = 0;
        for (int epoch = 0; epoch < epochs; epoch++)
            foreach (var batch in train.Epoch(epoch))
            {
                long s = step++;
                bool decision = (s + 1) % options.Interval == 0 && (s + 1) / options.Interval > calibration;
                if (decision) yield return batch;
                else batch.Dispose();
            }
    }
}
