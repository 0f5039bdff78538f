using Incrt.Control;
using Incrt.Models;
using Incrt.Theory;
using Incrt.Training;

namespace Incrt.Samples.Common;

/// <summary>
/// The head-count prediction as every sample runs it (docs/theory.md §7): from the first
/// <see cref="ControllerOptions.CalibrationCalls"/> training batches, with the controller's own decision schedule for
/// the growth replay; once before training and once more when layer 0's calibration ends.
/// </summary>
public static class SamplePrediction
{
    /// <summary>Predicts layer 0's head count for <paramref name="model"/> as it is now.</summary>
    /// <param name="model">The classifier (not changed).</param>
    /// <param name="train">The training batches the run will use.</param>
    /// <param name="epochs">Training epochs (the length of the decision schedule).</param>
    /// <param name="options">The controller's options.</param>
    /// <exception cref="ArgumentException">The predictor cannot run on these batches.</exception>
    public static HeadCountPrediction Predict(IncrtClassifier model, LengthBucketBatcher train, int epochs, ControllerOptions options)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        var calibration = train.Epoch(0).Take(options.CalibrationCalls).ToList();
        try { return HeadCountPredictor.Predict(model, calibration, options, schedule: DecisionSchedule.Batches(train, epochs, options)); }
        finally { foreach (var b in calibration) b.Dispose(); }
    }

    /// <summary>Runs <paramref name="action"/> once, after the step whose controller call ended layer 0's calibration: the
    /// one-head model has trained for CalibrationCalls·Interval steps and no growth decision has been made yet. It runs
    /// from <see cref="Trainer.StepCompleted"/>, after the controller has returned, not inside the controller's events,
    /// so the prediction's evaluation-mode forwards never interleave with a controller call.</summary>
    /// <param name="trainer">The run's trainer (its <see cref="Trainer.Controller"/> set before or after this call).</param>
    /// <param name="action">Receives the calibration event.</param>
    public static void OnCalibrated(Trainer trainer, Action<HeadEvent> action)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentNullException.ThrowIfNull(action);
        bool done = false;
        trainer.StepCompleted += (_, events) =>
        {
            if (done) return;
            foreach (var e in events)
            {
                if (e.Kind != HeadEventKind.Calibrated || e.Layer != 0) continue;
                done = true;
                action(e);
                return;
            }
        };
    }
}
