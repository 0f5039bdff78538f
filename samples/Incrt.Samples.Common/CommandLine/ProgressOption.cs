using System.CommandLine;
using Spectre.Console;

namespace Incrt.Samples.Common;

/// <summary>The <c>--progress auto|rich|plain</c> option shared by the training samples.</summary>
public static class ProgressOption
{
    /// <summary>The option's name.</summary>
    public const string Name = "--progress";

    /// <summary>A new <c>--progress</c> option (default <see cref="ProgressMode.Auto"/>); any other value is a parse
    /// error naming the option.</summary>
    public static Option<ProgressMode> Create() => new(Name)
    {
        Description = "Progress display: rich (live bar with epoch, loss, heads, λmax/θw, ETA), plain (one line per report, for logs) " +
            "or auto (rich on an interactive terminal, plain when the output is redirected).",
        HelpName = "auto|rich|plain",
        DefaultValueFactory = _ => ProgressMode.Auto,
        // A custom parser rather than enum binding: System.CommandLine's enum error neither names the option nor
        // lists the values in lower case as they are documented.
        CustomParser = result =>
        {
            var token = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            if (Enum.TryParse<ProgressMode>(token, ignoreCase: true, out var mode) && !int.TryParse(token, out _)) return mode;
            result.AddError($"{Name} must be auto, rich or plain; got '{token}'.");
            return ProgressMode.Auto;
        },
    };

    /// <summary>Resolves <see cref="ProgressMode.Auto"/>: rich only when standard output is not redirected and the
    /// terminal is interactive (Spectre.Console's detection also turns interactivity off on known CI systems).</summary>
    public static ProgressMode Resolve(ProgressMode mode) =>
        Resolve(mode, Console.IsOutputRedirected, AnsiConsole.Profile.Capabilities.Interactive && AnsiConsole.Profile.Capabilities.Ansi);

    /// <summary>Resolves <see cref="ProgressMode.Auto"/> from the given terminal facts (testable form).</summary>
    /// <param name="mode">The requested mode.</param>
    /// <param name="outputRedirected">Standard output goes to a file or pipe.</param>
    /// <param name="interactiveTerminal">The terminal is interactive and understands ANSI control codes.</param>
    public static ProgressMode Resolve(ProgressMode mode, bool outputRedirected, bool interactiveTerminal) => mode switch
    {
        ProgressMode.Auto => !outputRedirected && interactiveTerminal ? ProgressMode.Rich : ProgressMode.Plain,
        _ => mode,
    };
}
