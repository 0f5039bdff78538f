using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Incrt.Benchmarks;

/// <summary>One case at one thread count: a table of rows (absolute medians and ratios) and the verdict.</summary>
internal sealed class CaseResult
{
    public required string Case { get; init; }
    public required string Title { get; init; }
    public int Threads { get; init; }
    public required string Target { get; init; }
    public bool? TargetMet { get; set; }
    public string? Note { get; set; }
    /// <summary>Named pass/fail checks and their values (e.g. the soak's NaN injection), or null.</summary>
    public Dictionary<string, object?>? Checks { get; set; }
    public List<string> Columns { get; } = new();
    public List<Dictionary<string, object?>> Rows { get; } = new();

    public void Add(params (string Key, object? Value)[] cells)
    {
        var row = new Dictionary<string, object?>();
        foreach (var (k, v) in cells)
        {
            if (!Columns.Contains(k)) Columns.Add(k);
            row[k] = v is double d ? Math.Round(d, 5) : v;
        }
        Rows.Add(row);
    }

    public string Markdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"### {Case}: {Title} (torch threads = {Threads})");
        sb.AppendLine();
        sb.AppendLine("| " + string.Join(" | ", Columns) + " |");
        sb.AppendLine("|" + string.Concat(Columns.Select(_ => "---|")));
        foreach (var r in Rows)
            sb.AppendLine("| " + string.Join(" | ", Columns.Select(c => Format(r.GetValueOrDefault(c)))) + " |");
        sb.AppendLine();
        if (Checks is not null)
        {
            sb.AppendLine("| check | value |");
            sb.AppendLine("|---|---|");
            foreach (var (k, v) in Checks) sb.AppendLine($"| {k} | {Format(v is double d ? Math.Round(d, 5) : v)} |");
            sb.AppendLine();
        }
        sb.AppendLine($"Target: {Target} → **{(TargetMet is null ? "n/a" : TargetMet.Value ? "met" : "NOT met")}**" + (Note is null ? "" : $". {Note}"));
        return sb.ToString();
    }

    private static string Format(object? v) => v switch
    {
        null => "",
        double d when Math.Abs(d) >= 100 => d.ToString("F1", CultureInfo.InvariantCulture),
        double d when Math.Abs(d) >= 1 => d.ToString("F3", CultureInfo.InvariantCulture),
        double d => d.ToString("G3", CultureInfo.InvariantCulture),
        bool b => b ? "yes" : "no",
        _ => Convert.ToString(v, CultureInfo.InvariantCulture) ?? "",
    };
}

internal sealed class RunReport
{
    public required string Command { get; init; }
    public required DateTimeOffset StartedUtc { get; init; }
    public required Dictionary<string, object?> Machine { get; init; }
    public List<CaseResult> Cases { get; } = new();

    public string Write(string dir)
    {
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, $"bench-{StartedUtc:yyyyMMdd-HHmmss}.json");
        var json = JsonSerializer.Serialize(this, new JsonSerializerOptions
        {
            WriteIndented = true,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        });
        File.WriteAllText(path, json);
        return path;
    }
}
