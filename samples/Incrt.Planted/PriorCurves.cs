using System.Globalization;
using System.Text.Json;

namespace Incrt.Planted;

/// <summary>Reads the fixed-H curves of an earlier sweep's results.json (<c>--curves</c>).</summary>
internal static class PriorCurves
{
    /// <summary>Family/K/seed → {H: exact-match accuracy}, for every run that has a curve.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="FormatException">The file has no runs with fixed-H accuracies.</exception>
    public static IReadOnlyDictionary<string, IReadOnlyDictionary<int, double>> Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException("no such file", path);
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var curves = new Dictionary<string, IReadOnlyDictionary<int, double>>();
        if (doc.RootElement.TryGetProperty("runs", out var runs) && runs.ValueKind == JsonValueKind.Array)
            foreach (var run in runs.EnumerateArray())
            {
                if (!run.TryGetProperty("fixedHeadAccuracy", out var acc) || acc.ValueKind != JsonValueKind.Object) continue;
                var curve = acc.EnumerateObject().ToDictionary(p => int.Parse(p.Name, CultureInfo.InvariantCulture), p => p.Value.GetDouble());
                if (curve.Count == 0) continue;
                curves[PlantedSettings.CurveKey(run.GetProperty("family").GetString()!, run.GetProperty("k").GetInt32(), run.GetProperty("seed").GetInt32())] = curve;
            }
        if (curves.Count == 0) throw new FormatException("it holds no run with a fixed-H curve (fixedHeadAccuracy); run the sweep without --no-fixed first.");
        return curves;
    }
}
