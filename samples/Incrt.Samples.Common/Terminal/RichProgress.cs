using System.Globalization;
using Incrt.Training;
using Spectre.Console;

namespace Incrt.Samples.Common;

/// <summary>
/// Progress as a live Spectre.Console display: one bar per <see cref="Track{T}"/> call labelled with the run and epoch,
/// with percentage, elapsed and remaining-time columns, and under it a status line with the loss, heads per layer,
/// λmax/θ_w per layer and the last validation accuracy. Validation lines and other lines are written through the same
/// <see cref="IAnsiConsole"/>, which prints them above the live bar instead of tearing it.
/// </summary>
/// <param name="console">The console to render into (<see cref="AnsiConsole.Console"/> for the terminal).</param>
public sealed class RichProgress(IAnsiConsole console) : IProgressSink
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private readonly IAnsiConsole _console = console ?? throw new ArgumentNullException(nameof(console));
    private ProgressTask? _task;
    private string _run = "";
    private int _epochs;
    private TrainingProgress? _last;
    private EvaluationResult? _lastEvaluation;
    private IReadOnlyList<int>? _heads;

    /// <inheritdoc/>
    public T Track<T>(string run, long totalSteps, int epochs, Func<T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (_task is not null) return work(); // one live display at a time: a nested run reports into the outer bar
        _run = run;
        _epochs = epochs;
        _last = null;
        _lastEvaluation = null;
        _heads = null;
        return _console.Progress()
            .AutoClear(false)       // the finished bar stays on screen as the run's summary line
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            // The numbers go on their own line under the bar: in the description column they squeeze the bar out of
            // an 80-column terminal.
            .UseRenderHook((bar, _) => new Rows(bar, new Markup(Status())))
            .Start(context =>
            {
                _task = context.AddTask(Describe(), maxValue: Math.Max(1, totalSteps));
                try
                {
                    var result = work();
                    _task.Value = _task.MaxValue;
                    _task.Description = Describe();
                    return result;
                }
                finally
                {
                    _task.StopTask();
                    _task = null;
                }
            });
    }

    /// <inheritdoc/>
    public void Report(TrainingProgress progress, string line)
    {
        ArgumentNullException.ThrowIfNull(progress);
        if (_task is null)
        {
            _console.WriteLine(line);
            return;
        }
        _last = progress;
        _heads = progress.Heads;
        _task.Value = Math.Min(progress.Step, _task.MaxValue);
        _task.Description = Describe();
    }

    /// <inheritdoc/>
    public void Evaluated(EvaluationResult evaluation, IReadOnlyList<int> heads, string line)
    {
        _lastEvaluation = evaluation;
        _heads = heads;
        _console.WriteLine(line, new Style(Color.Green));
        if (_task is not null) _task.Description = Describe();
    }

    /// <inheritdoc/>
    public void WriteLine(string line) => _console.WriteLine(line);

    /// <summary>The bar's label: run and epoch (Spectre markup, so every value is escaped).</summary>
    private string Describe() =>
        $"[bold]{Markup.Escape(_run)}[/] " + (_last is { } p ? string.Create(Inv, $"epoch {p.Epoch}/{_epochs}") : string.Create(Inv, $"{_epochs} epoch(s)"));

    /// <summary>The status line under the bar (markup): loss, heads, λmax/θ_w, last validation accuracy.</summary>
    private string Status()
    {
        var parts = new List<string>();
        if (_last is { } p)
        {
            parts.Add(string.Create(Inv, $"loss {p.Loss:F4}"));
            parts.Add(Markup.Escape($"heads [{string.Join(",", _heads ?? p.Heads)}]"));
            parts.Add(Markup.Escape($"λmax/θw [{string.Join(",", p.LambdaMaxOverTheta.Select(r => double.IsNaN(r) ? "-" : r.ToString("F2", Inv)))}]"));
        }
        if (_lastEvaluation is { } e) parts.Add(string.Create(Inv, $"val acc {e.Accuracy:P1}"));
        return parts.Count == 0 ? "[grey]waiting for the first report[/]" : "[grey]" + string.Join(" · ", parts) + "[/]";
    }
}
