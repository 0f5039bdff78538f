using Incrt.Training;

namespace Incrt.Samples.Common;

/// <summary>
/// Where a sample's training progress goes: <see cref="PlainProgress"/> writes one text line per report (CI logs,
/// tests), <see cref="RichProgress"/> shows a live Spectre.Console bar per run. The caller formats the plain line, so
/// each sample keeps its own line format; the rich display builds its bar from the structured report.
/// </summary>
public interface IProgressSink
{
    /// <summary>Runs one training run while its progress is shown (a bar per run in rich mode) and returns its result.</summary>
    /// <param name="run">Name of the run (bar label).</param>
    /// <param name="totalSteps">Planned optimizer steps (the bar's 100%).</param>
    /// <param name="epochs">Planned epochs (shown as "epoch e/epochs").</param>
    /// <param name="work">The training; it reports through <see cref="Report"/> and <see cref="Evaluated"/>.</param>
    T Track<T>(string run, long totalSteps, int epochs, Func<T> work);

    /// <summary>A periodic training report.</summary>
    /// <param name="progress">The trainer's report.</param>
    /// <param name="line">Its plain-text line.</param>
    void Report(TrainingProgress progress, string line);

    /// <summary>A validation result.</summary>
    /// <param name="evaluation">The evaluation.</param>
    /// <param name="heads">Head count per layer when it was taken (the controller may have changed it since the last
    /// <see cref="Report"/>).</param>
    /// <param name="line">Its plain-text line (printed in both modes; above the bar in rich mode).</param>
    void Evaluated(EvaluationResult evaluation, IReadOnlyList<int> heads, string line);

    /// <summary>Any other line (above the bar in rich mode).</summary>
    void WriteLine(string line);
}
