using System.CommandLine;
using System.CommandLine.Invocation;

namespace Incrt.Samples.Common;

/// <summary>Runs a sample's System.CommandLine root command with the repository's exit-code convention.</summary>
public static class SampleCommandLine
{
    /// <summary>Exit code of a usage error (unknown option, bad option value).</summary>
    public const int UsageErrorExitCode = 2;

    /// <summary>Parses <paramref name="args"/> and runs the command's action; <c>--help</c> prints every option to
    /// <paramref name="output"/>. A parse error prints "error: …" (the message names the option) to
    /// <paramref name="error"/> and returns <see cref="UsageErrorExitCode"/> instead of System.CommandLine's 1, so
    /// every sample exits 2 on bad input.</summary>
    /// <param name="root">The command.</param>
    /// <param name="args">The command-line arguments.</param>
    /// <param name="output">Help and the action's console output (default <see cref="Console.Out"/>).</param>
    /// <param name="error">Error messages (default <see cref="Console.Error"/>).</param>
    public static int Invoke(RootCommand root, string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(args);
        error ??= Console.Error;
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0 && parse.Action is ParseErrorAction)
        {
            foreach (var e in parse.Errors) error.WriteLine($"error: {e.Message}");
            error.WriteLine("Run with --help to list the options.");
            return UsageErrorExitCode;
        }
        return parse.Invoke(new InvocationConfiguration { Output = output ?? Console.Out, Error = error });
    }
}
