namespace Incrt.Persistence;

/// <summary>
/// A checkpoint file could not be read or does not fit: corrupt, truncated, foreign, of an unsupported format version,
/// or describing another architecture than the model it is loaded into. The message names the file and the problem.
/// </summary>
public sealed class CheckpointException : IOException
{
    /// <summary>Creates the exception for <paramref name="path"/> with a message that already names the file.</summary>
    /// <param name="path">The checkpoint file.</param>
    /// <param name="problem">What is wrong, as a sentence.</param>
    /// <param name="inner">The underlying error, if any.</param>
    public CheckpointException(string path, string problem, Exception? inner = null)
        : base($"Checkpoint '{path}': {problem}", inner)
    {
        FilePath = path;
        Problem = problem;
    }

    /// <summary>The checkpoint file.</summary>
    public string FilePath { get; }

    /// <summary>The problem without the file name.</summary>
    public string Problem { get; }
}
