using Incrt.Training;

namespace Incrt.Samples.Common;

/// <summary>Progress as plain text lines on a <see cref="TextWriter"/>: exactly the lines the caller formatted.</summary>
/// <param name="output">Receives the lines.</param>
public sealed class PlainProgress(TextWriter output) : IProgressSink
{
    private readonly TextWriter _output = output ?? throw new ArgumentNullException(nameof(output));

    /// <inheritdoc/>
    public T Track<T>(string run, long totalSteps, int epochs, Func<T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return work();
    }

    /// <inheritdoc/>
    public void Report(TrainingProgress progress, string line) => _output.WriteLine(line);

    /// <inheritdoc/>
    public void Evaluated(EvaluationResult evaluation, IReadOnlyList<int> heads, string line) => _output.WriteLine(line);

    /// <inheritdoc/>
    public void WriteLine(string line) => _output.WriteLine(line);
}
