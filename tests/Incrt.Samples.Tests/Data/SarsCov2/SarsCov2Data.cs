using Incrt.Tasks.Data.SarsCov2;
using Xunit;

namespace Incrt.Tests.Data.SarsCov2;

/// <summary>Locates the shared (read-only) SARS-CoV-2 data and loads the catalog once per test run.</summary>
public sealed class SarsCov2Data
{
    private static readonly Lazy<LineageCatalog> LazyCatalog = new(() => LineageCatalog.LoadDirectory(Directory));

    /// <summary>
    /// <c>INCRT_SARSCOV2_DATA</c> if set, else the first <c>shared/data/sarscov2</c> found next to an ancestor of the test
    /// output directory (the repository convention: data lives in <c>../shared/data</c> next to the checkout).
    /// </summary>
    public static string Directory
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("INCRT_SARSCOV2_DATA");
            if (!string.IsNullOrEmpty(env)) return env;
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            {
                var candidate = Path.Combine(d.FullName, "shared", "data", "sarscov2");
                if (File.Exists(Path.Combine(candidate, LineageCatalog.MutationTableFileName))) return candidate;
            }
            throw new Xunit.Sdk.XunitException(
                "SARS-CoV-2 data not found: set INCRT_SARSCOV2_DATA or place shared/data/sarscov2 next to the checkout.");
        }
    }

    public static LineageCatalog Catalog => LazyCatalog.Value;

    public static string ReferencePath => Path.Combine(Directory, LineageCatalog.ReferenceFileName);
}
