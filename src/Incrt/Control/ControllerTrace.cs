using System.Globalization;
using System.Text;
using System.Text.Json;
using Incrt.IO;

namespace Incrt.Control;

/// <summary>One row of the controller trace: one layer at one call.</summary>
/// <param name="Step">Optimizer step.</param>
/// <param name="Call">Controller call number.</param>
/// <param name="Layer">Layer index.</param>
/// <param name="Heads">Head count after the call.</param>
/// <param name="LambdaMax">λmax (NaN during a skipped call).</param>
/// <param name="LambdaMin">λmin.</param>
/// <param name="ExactLambdaMax">λ1 from the exact spectrum (tracking-error monitor).</param>
/// <param name="ThetaW">θ_w (NaN before calibration).</param>
/// <param name="PhiW">φ_w.</param>
/// <param name="GapPlus">Δ+.</param>
/// <param name="DwellCalls">T_d.</param>
/// <param name="Decision">none, calibrating, calibrated, grew, pruned, skipped.</param>
public sealed record TraceRow(long Step, long Call, int Layer, int Heads, double LambdaMax, double LambdaMin,
    double ExactLambdaMax, double ThetaW, double PhiW, double GapPlus, long DwellCalls, string Decision);

/// <summary>Keeps every controller call's readings; writes CSV or JSON for plots and reports.</summary>
public sealed class ControllerTrace
{
    private readonly List<TraceRow> _rows = new();

    /// <summary>All rows in call order.</summary>
    public IReadOnlyList<TraceRow> Rows => _rows;

    /// <summary>Appends a row.</summary>
    public void Add(TraceRow row) => _rows.Add(row ?? throw new ArgumentNullException(nameof(row)));

    /// <summary>Writes the rows as CSV (invariant culture) to <paramref name="path"/>.</summary>
    public void WriteCsv(string path)
    {
        var sb = new StringBuilder("step,call,layer,heads,lambda_max,lambda_min,exact_lambda_max,theta_w,phi_w,gap_plus,dwell_calls,decision\n");
        foreach (var r in _rows)
            sb.AppendLine(string.Join(',', new object[] { r.Step, r.Call, r.Layer, r.Heads, r.LambdaMax, r.LambdaMin, r.ExactLambdaMax,
                r.ThetaW, r.PhiW, r.GapPlus, r.DwellCalls, r.Decision }.Select(v => Convert.ToString(v, CultureInfo.InvariantCulture))));
        AtomicFile.WriteAllText(path, sb.ToString());
    }

    /// <summary>Writes the rows as a JSON array to <paramref name="path"/> (NaN written as null).</summary>
    public void WriteJson(string path)
    {
        var rows = _rows.Select(r => new
        {
            r.Step, r.Call, r.Layer, r.Heads, LambdaMax = N(r.LambdaMax), LambdaMin = N(r.LambdaMin), ExactLambdaMax = N(r.ExactLambdaMax),
            ThetaW = N(r.ThetaW), PhiW = N(r.PhiW), GapPlus = N(r.GapPlus), r.DwellCalls, r.Decision,
        });
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = false }));
    }

    private static double? N(double v) => double.IsFinite(v) ? v : null;
}
