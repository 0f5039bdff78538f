namespace Incrt.Tasks.Data;

/// <summary>
/// Locates the shared data folder (the one holding <c>sst2/</c> and the other data sets).
/// </summary>
/// <remarks>
/// Precedence: an explicit path (e.g. a <c>--data &lt;folder&gt;</c> command-line option) wins, then the
/// <c>INCRT_DATA</c> environment variable, then the default: the <c>shared/data</c> folder beside the
/// repository, i.e. <c>&lt;repo&gt;/../shared/data</c>, where <c>&lt;repo&gt;</c> is the first directory
/// containing <c>Incrt.sln</c> found by walking up from <see cref="AppContext.BaseDirectory"/> and then
/// from the current directory.
/// </remarks>
public static class DataPaths
{
    /// <summary>The environment variable that overrides the default data folder.</summary>
    public const string EnvironmentVariable = "INCRT_DATA";

    /// <summary>The file that marks the repository root.</summary>
    public const string SolutionFileName = "Incrt.sln";

    /// <summary>Resolves the data folder.</summary>
    /// <param name="overridePath">An explicit folder (highest precedence); <c>null</c> or empty to use <c>INCRT_DATA</c> or the default.</param>
    /// <returns>The full path of an existing folder.</returns>
    /// <exception cref="DirectoryNotFoundException">The chosen folder does not exist or no default could be found; the message says what was searched and how to override.</exception>
    public static string Resolve(string? overridePath = null) =>
        Resolve(overridePath, Environment.GetEnvironmentVariable(EnvironmentVariable),
            [AppContext.BaseDirectory, Directory.GetCurrentDirectory()]);

    /// <summary>Testable core of <see cref="Resolve(string?)"/> with the environment value and start directories given explicitly.</summary>
    internal static string Resolve(string? overridePath, string? environmentValue, IReadOnlyList<string> startDirectories)
    {
        const string howTo = "Pass --data <folder> or set the INCRT_DATA environment variable to the folder that contains sst2/.";
        if (!string.IsNullOrWhiteSpace(overridePath))
        {
            var full = Path.GetFullPath(overridePath);
            if (!Directory.Exists(full))
                throw new DirectoryNotFoundException($"The data folder given explicitly (--data) does not exist: {full}. {howTo}");
            return full;
        }
        if (!string.IsNullOrWhiteSpace(environmentValue))
        {
            var full = Path.GetFullPath(environmentValue);
            if (!Directory.Exists(full))
                throw new DirectoryNotFoundException($"The data folder named by {EnvironmentVariable} does not exist: {full}. {howTo}");
            return full;
        }

        var tried = new List<string>();
        foreach (var start in startDirectories)
        {
            var root = FindRepositoryRoot(start);
            if (root is null)
            {
                tried.Add($"no {SolutionFileName} above {start}");
                continue;
            }
            var candidate = Path.GetFullPath(Path.Combine(root, "..", "shared", "data"));
            if (Directory.Exists(candidate)) return candidate;
            tried.Add($"{candidate} (beside {Path.Combine(root, SolutionFileName)}) does not exist");
        }
        throw new DirectoryNotFoundException(
            $"Could not find the default data folder <repo>/../shared/data, where <repo> is the directory holding {SolutionFileName} " +
            $"found by walking up from the application directory and the current directory. Searched: {string.Join("; ", tried)}. {howTo}");
    }

    /// <summary>Walks up from <paramref name="startDirectory"/> to the first directory containing <see cref="SolutionFileName"/>.</summary>
    /// <param name="startDirectory">Where to start (inclusive).</param>
    /// <returns>The full path of that directory, or <c>null</c> when none is found.</returns>
    public static string? FindRepositoryRoot(string startDirectory)
    {
        if (string.IsNullOrWhiteSpace(startDirectory)) return null;
        for (var dir = new DirectoryInfo(Path.GetFullPath(startDirectory)); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, SolutionFileName)))
                return dir.FullName;
        return null;
    }

    /// <summary>Path of an SST-2 split inside a data folder: <c>&lt;dataFolder&gt;/sst2/&lt;split&gt;.tsv</c>.</summary>
    /// <param name="dataFolder">A folder returned by <see cref="Resolve(string?)"/>.</param>
    /// <param name="split"><c>train</c> or <c>dev</c>.</param>
    /// <returns>The file path (existence is not checked).</returns>
    public static string Sst2File(string dataFolder, string split) => Path.Combine(dataFolder, "sst2", split + ".tsv");
}
