using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Incrt.Samples.Common;

/// <summary>
/// An <see cref="ILoggerProvider"/> that writes each log entry as one line through an <see cref="IAnsiConsole"/>, on
/// the logging thread. Used in rich progress mode instead of MEL's console logger, which writes from a background
/// thread straight to the terminal and would tear the live progress bar; Spectre prints these lines above it.
/// </summary>
/// <param name="console">The console the live display renders into.</param>
/// <param name="minimumLevel">Entries below this level are dropped.</param>
public sealed class SpectreLoggerProvider(IAnsiConsole console, LogLevel minimumLevel = LogLevel.Information) : ILoggerProvider
{
    private readonly IAnsiConsole _console = console ?? throw new ArgumentNullException(nameof(console));

    /// <inheritdoc/>
    public ILogger CreateLogger(string categoryName) => new SpectreLogger(_console, categoryName, minimumLevel);

    /// <inheritdoc/>
    public void Dispose()
    {
    }

    private sealed class SpectreLogger(IAnsiConsole console, string category, LogLevel minimumLevel) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= minimumLevel;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            ArgumentNullException.ThrowIfNull(formatter);
            var (label, color) = logLevel switch
            {
                LogLevel.Trace => ("trce", "grey"),
                LogLevel.Debug => ("dbug", "grey"),
                LogLevel.Information => ("info", "blue"),
                LogLevel.Warning => ("warn", "yellow"),
                LogLevel.Error => ("fail", "red"),
                _ => ("crit", "red"),
            };
            // Same shape as the plain console logger (time, level, category, message) so both modes read alike.
            var text = formatter(state, exception) + (exception is null ? "" : Environment.NewLine + exception);
            console.MarkupLine($"[grey]{DateTime.Now:HH:mm:ss}[/] [{color}]{label}[/]: {Markup.Escape(category)} {Markup.Escape(text)}");
        }
    }
}
