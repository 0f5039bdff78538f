using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Incrt.Samples.Common;

/// <summary>
/// The output side of one sample run for a <c>--progress</c> mode: where report lines (<see cref="Out"/>), training
/// progress (<see cref="Progress"/>) and the library's controller log (<see cref="Logging"/>) go. Plain mode is the
/// plain text of a <see cref="TextWriter"/> with MEL's console logger; rich mode routes all three through one
/// <see cref="IAnsiConsole"/> so the live bar stays intact.
/// </summary>
public sealed class SampleConsole : IDisposable
{
    private readonly ILoggerFactory? _ownedLogging;

    private SampleConsole(ProgressMode mode, TextWriter output, IProgressSink progress, ILoggerFactory? logging, bool owned)
    {
        Mode = mode;
        Out = output;
        Progress = progress;
        Logging = logging;
        _ownedLogging = owned ? logging : null;
    }

    /// <summary>The resolved mode: <see cref="ProgressMode.Plain"/> or <see cref="ProgressMode.Rich"/>.</summary>
    public ProgressMode Mode { get; }

    /// <summary>Report lines (data summary, final metrics).</summary>
    public TextWriter Out { get; }

    /// <summary>Training progress.</summary>
    public IProgressSink Progress { get; }

    /// <summary>The controller's log (grow, prune, calibration), or null for none.</summary>
    public ILoggerFactory? Logging { get; }

    /// <summary>The console for a <c>--progress</c> value: <see cref="ProgressMode.Auto"/> is resolved against the
    /// terminal (<see cref="ProgressOption.Resolve(ProgressMode)"/>); rich renders into <see cref="AnsiConsole.Console"/>,
    /// plain writes to <see cref="Console.Out"/>.</summary>
    /// <param name="mode">The requested mode.</param>
    /// <param name="logging">Create a logger factory for the controller's decisions (none when false).</param>
    public static SampleConsole Create(ProgressMode mode, bool logging = true) =>
        ProgressOption.Resolve(mode) == ProgressMode.Rich ? Rich(AnsiConsole.Console, logging) : Plain(Console.Out, logging);

    /// <summary>Plain text on <paramref name="output"/> (what tests and CI logs read).</summary>
    /// <param name="output">Receives every line.</param>
    /// <param name="logging">Create MEL's console logger (single line, timestamps) for the controller's decisions.</param>
    public static SampleConsole Plain(TextWriter output, bool logging = true)
    {
        ArgumentNullException.ThrowIfNull(output);
        return new SampleConsole(ProgressMode.Plain, output, new PlainProgress(output), logging ? SampleRuntime.ConsoleLogging() : null, owned: true);
    }

    /// <summary>Plain text on <paramref name="output"/> with the caller's logger factory (not disposed here).</summary>
    /// <param name="output">Receives every line.</param>
    /// <param name="logging">The caller's logger factory, or null for no controller log.</param>
    public static SampleConsole Plain(TextWriter output, ILoggerFactory? logging)
    {
        ArgumentNullException.ThrowIfNull(output);
        return new SampleConsole(ProgressMode.Plain, output, new PlainProgress(output), logging, owned: false);
    }

    /// <summary>A live display in <paramref name="console"/>; lines and log entries are printed above the bar.</summary>
    /// <param name="console">The console to render into (a test passes one that writes to a <see cref="StringWriter"/>).</param>
    /// <param name="logging">Log the controller's decisions through <see cref="SpectreLoggerProvider"/> (none when false).</param>
    public static SampleConsole Rich(IAnsiConsole console, bool logging = true)
    {
        ArgumentNullException.ThrowIfNull(console);
        var factory = logging
            ? LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Information).AddProvider(new SpectreLoggerProvider(console)))
            : null;
        return new SampleConsole(ProgressMode.Rich, new ConsoleLineWriter(console), new RichProgress(console), factory, owned: true);
    }

    /// <summary>Flushes <see cref="Out"/> and disposes the logger factory this instance created.</summary>
    public void Dispose()
    {
        Out.Flush();
        _ownedLogging?.Dispose();
    }
}
