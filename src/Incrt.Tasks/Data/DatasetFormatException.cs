namespace Incrt.Tasks.Data;

/// <summary>
/// Thrown when a data file (a labelled TSV, a saved vocabulary) does not have the documented format.
/// The message names the file, the 1-based line number and what was expected there. (It derives from
/// <see cref="FormatException"/> because <see cref="InvalidDataException"/> is sealed.)
/// </summary>
public sealed class DatasetFormatException : FormatException
{
    /// <summary>Creates the exception for a problem at <paramref name="lineNumber"/> of <paramref name="filePath"/>.</summary>
    /// <param name="filePath">The file (or source name) being read.</param>
    /// <param name="lineNumber">The 1-based line number of the offending line; 0 when the problem is not tied to one line.</param>
    /// <param name="problem">What was wrong and what was expected.</param>
    public DatasetFormatException(string filePath, int lineNumber, string problem)
        : base(lineNumber > 0 ? $"{filePath}, line {lineNumber}: {problem}" : $"{filePath}: {problem}")
    {
        FilePath = filePath;
        LineNumber = lineNumber;
        Problem = problem;
    }

    /// <summary>The file (or source name) that was being read.</summary>
    public string FilePath { get; }

    /// <summary>The 1-based number of the offending line, or 0 when the problem concerns the whole file.</summary>
    public int LineNumber { get; }

    /// <summary>The problem description without the location prefix.</summary>
    public string Problem { get; }
}
