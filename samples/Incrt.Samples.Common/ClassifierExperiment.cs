using System.Diagnostics;
using System.Globalization;
using Incrt.Control;
using Incrt.Models;
using Incrt.Theory;
using Incrt.Training;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace Incrt.Samples.Common;

/// <summary>Encoded sequences (token ids, [CLS] first, no padding) and their class indices.</summary>
/// <param name="Sequences">One id array per example.</param>
/// <param name="Labels">One class index per example.</param>
public sealed record EncodedSplit(IReadOnlyList<int[]> Sequences, IReadOnlyList<int> Labels)
{
    /// <summary>Number of examples.</summary>
    public int Count => Sequences.Count;
}

/// <summary>Settings of one <see cref="ClassifierExperiment"/> run.</summary>
public sealed record ExperimentSettings
{
    /// <summary>Model configuration (vocabulary, length, width, heads, classes).</summary>
    public required IncrtModelOptions Model { get; init; }

    /// <summary>Training loop settings.</summary>
    public TrainerOptions Trainer { get; init; } = new();

    /// <summary>Controller settings, or <see langword="null"/> for a fixed-head baseline (no controller).</summary>
    public ControllerOptions? Controller { get; init; } = new();

    /// <summary>Training batch size. Default 16.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Evaluation batch size. Default 64.</summary>
    public int EvaluationBatchSize { get; init; } = 64;

    /// <summary>Seed of the batch order.</summary>
    public int Seed { get; init; }

    /// <summary>Device of the model and batches; CPU when null.</summary>
    public Device? Device { get; init; }

    /// <summary>Receives the controller's decisions; none when null.</summary>
    public ILoggerFactory? Logging { get; init; }

    /// <summary>Progress lines (training loss, heads, λmax/θ_w, validation accuracy) as plain text; none when null.
    /// Ignored when <see cref="ProgressSink"/> is set.</summary>
    public TextWriter? Progress { get; init; }

    /// <summary>Where the progress goes (e.g. a live <see cref="RichProgress"/> bar); null = plain lines on
    /// <see cref="Progress"/>.</summary>
    public IProgressSink? ProgressSink { get; init; }

    /// <summary>Called once after the test evaluation, before the model is disposed, with the trained model, its
    /// optimizer and the controller (null without one) and the test metrics: the place to save a checkpoint.</summary>
    public Action<IncrtClassifier, optim.Optimizer, HeadController?, ClassificationMetrics>? OnTrained { get; init; }
}

/// <summary>What one <see cref="ClassifierExperiment"/> run measured.</summary>
/// <param name="Test">Test-set metrics.</param>
/// <param name="Validation">Every validation evaluation, in order.</param>
/// <param name="Heads">Final head count per layer.</param>
/// <param name="Parameters">Final trainable parameter count.</param>
/// <param name="Steps">Optimizer steps taken.</param>
/// <param name="TrainSeconds">Wall time of training (evaluations included).</param>
/// <param name="Events">Controller decisions (empty without a controller).</param>
/// <param name="Trace">Controller trace, or null without a controller.</param>
/// <param name="Converged">Controller homeostasis at the end, or null without a controller.</param>
/// <param name="Prediction">Head count predicted before training by <see cref="HeadCountPredictor"/> (frozen constants)
/// for layer 0, or null without a controller or when the prediction failed.</param>
/// <param name="PredictionError">Why <paramref name="Prediction"/> is null although a controller ran, else null.</param>
/// <param name="PredictionAfterCalibration">The same prediction made when the controller's calibration ended (layer 0,
/// one-head model after CalibrationCalls·Interval training steps, before any growth decision); its
/// <see cref="HeadCountPrediction.ReplayHeads"/> replays the remaining decision calls. Null without a controller.</param>
public sealed record ExperimentResult(
    ClassificationMetrics Test,
    IReadOnlyList<EvaluationResult> Validation,
    IReadOnlyList<int> Heads,
    long Parameters,
    long Steps,
    double TrainSeconds,
    IReadOnlyList<HeadEvent> Events,
    ControllerTrace? Trace,
    bool? Converged,
    HeadCountPrediction? Prediction = null,
    string? PredictionError = null,
    HeadCountPrediction? PredictionAfterCalibration = null)
{
    /// <summary>Heads added over the run.</summary>
    public int Grown => Events.Count(e => e.Kind == HeadEventKind.Grew);

    /// <summary>Heads removed over the run.</summary>
    public int Pruned => Events.Count(e => e.Kind == HeadEventKind.Pruned);
}

/// <summary>
/// Train → validate → test one <see cref="IncrtClassifier"/> on encoded splits, with the INCRT controller (or a fixed
/// head count), and write the usual artefacts (controller trace CSV, PNG of heads, λmax/θ_w and validation accuracy).
/// The classification front of <see cref="SampleTraining"/> (encoded splits in, test metrics out) for the SARS-CoV-2 sample.
/// </summary>
public static class ClassifierExperiment
{
    /// <summary>Runs the experiment.</summary>
    /// <param name="train">Training split.</param>
    /// <param name="validation">Validation split (may be empty: no validation evaluations then).</param>
    /// <param name="test">Test split.</param>
    /// <param name="labels">Class labels in class-index order.</param>
    /// <param name="settings">Model, trainer and controller settings.</param>
    public static ExperimentResult Run(EncodedSplit train, EncodedSplit validation, EncodedSplit test, IReadOnlyList<string> labels,
        ExperimentSettings settings)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(validation);
        ArgumentNullException.ThrowIfNull(test);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(settings);
        if (train.Count == 0) throw new ArgumentException("The training split is empty.", nameof(train));
        if (test.Count == 0) throw new ArgumentException("The test split is empty.", nameof(test));

        using var model = new IncrtClassifier(settings.Model, settings.Device);
        var run = new TrainingRunSettings
        {
            Name = settings.Controller is null ? $"fixed {settings.Model.InitialHeads} head(s)" : "INCRT",
            Trainer = settings.Trainer,
            Controller = settings.Controller,
            Train = new LengthBucketBatcher(train.Sequences, train.Labels, settings.BatchSize, settings.Seed, settings.Device),
            Validation = validation.Count == 0 ? null
                : new LengthBucketBatcher(validation.Sequences, validation.Labels, settings.EvaluationBatchSize, settings.Seed, settings.Device),
            Test = new LengthBucketBatcher(test.Sequences, test.Labels, settings.EvaluationBatchSize, settings.Seed, settings.Device),
            Logging = settings.Logging,
            Progress = settings.ProgressSink ?? (settings.Progress is { } writer ? new PlainProgress(writer) : null),
        };
        ClassificationMetrics? testMetrics = null;
        var r = SampleTraining.Run(model, run, trained =>
        {
            testMetrics = ClassificationMetrics.From(labels, trained.Result.Test!.Confusion);
            settings.OnTrained?.Invoke(trained.Model, trained.Trainer.Optimizer, trained.Controller, testMetrics);
        });
        return new ExperimentResult(testMetrics!, r.Validation, r.Heads, r.Parameters, r.Steps, r.TrainSeconds, r.Events, r.Trace, r.Converged,
            r.Prediction, r.PredictionError, r.PredictionAfterCalibration);
    }

    /// <summary>
    /// Writes <c>trace.csv</c> (when there is a controller trace) and <c>training.png</c> (heads, λmax/θ_w and
    /// validation accuracy against the optimizer step) into <paramref name="directory"/>. Returns the files written.
    /// </summary>
    /// <param name="result">A finished run.</param>
    /// <param name="directory">Output folder (created when missing).</param>
    /// <param name="title">Prefix of the panel titles.</param>
    public static IReadOnlyList<string> WriteArtifacts(ExperimentResult result, string directory, string title)
    {
        ArgumentNullException.ThrowIfNull(result);
        Directory.CreateDirectory(directory);
        var files = new List<string>();
        if (result.Trace is { } trace)
        {
            var csv = Path.Combine(directory, "trace.csv");
            trace.WriteCsv(csv);
            files.Add(csv);
        }
        var png = Path.Combine(directory, "training.png");
        TrainingPlot.Save(png, result.Trace, result.Validation, result.Heads, result.Steps, title);
        files.Add(png);
        return files;
    }
}
