namespace Incrt.Samples.Common;

/// <summary>How a sample shows training progress (the <c>--progress</c> option).</summary>
public enum ProgressMode
{
    /// <summary><see cref="Rich"/> when standard output is an interactive terminal, else <see cref="Plain"/>.</summary>
    Auto,

    /// <summary>A live Spectre.Console bar per run; validation results and log lines print above it.</summary>
    Rich,

    /// <summary>One text line per report: what CI logs and tests read.</summary>
    Plain,
}
