using System.Text.Json;
using Incrt.IO;

namespace Incrt.Samples.Common;

/// <summary>Writes a results object as indented JSON, atomically (temporary file, then rename).</summary>
public static class ResultsFile
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Serialises <paramref name="results"/> to <paramref name="path"/>.</summary>
    public static void Write(string path, object results)
    {
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(results, results.GetType(), Json));
    }
}
