using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Incrt.Planted;

/// <summary>Splits the sweep's jobs over worker processes (each one torch thread) and collects their outcomes, which
/// each worker appends to its own JSON-lines file.</summary>
internal static class PlantedWorkers
{
    private sealed record Line(PlantedJob Job, TrainingOutcome Outcome);

    /// <summary>Appends one job's outcome to <paramref name="file"/>.</summary>
    public static void Append(string file, PlantedJob job, TrainingOutcome outcome) =>
        File.AppendAllText(file, JsonSerializer.Serialize(new Line(job, outcome)) + "\n");

    // The parent's own --workers/--out (and any worker options) are replaced for each worker.
    private static IEnumerable<string> WithoutWorkerOptions(IReadOnlyList<string> args)
    {
        var replaced = new[] { "--workers", "--out", "--shard", "--outcomes" };
        for (int i = 0; i < args.Count; i++)
        {
            var name = args[i].Split('=')[0];
            if (!replaced.Contains(name)) { yield return args[i]; continue; }
            if (!args[i].Contains('=') && i + 1 < args.Count) i++; // skip the value
        }
    }

    /// <summary>Starts <see cref="PlantedSettings.Workers"/> copies of this program on shards of the job list, echoes
    /// their progress lines, and returns every job's outcome.</summary>
    public static IEnumerable<(PlantedJob Job, TrainingOutcome Outcome)> Run(PlantedSettings s, IReadOnlyList<PlantedJob> jobs, TextWriter log)
    {
        var folder = Path.Combine(s.Out, "workers");
        Directory.CreateDirectory(folder);
        var processes = new List<Process>();
        var files = new List<string>();
        for (int i = 0; i < s.Workers; i++)
        {
            var file = Path.Combine(folder, $"shard-{i}.jsonl");
            File.Delete(file);
            files.Add(file);
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add(typeof(PlantedWorkers).Assembly.Location);
            foreach (var a in WithoutWorkerOptions(s.CommandLine ?? Array.Empty<string>())) start.ArgumentList.Add(a);
            foreach (var a in new[] { "--workers", "1", "--shard", string.Create(CultureInfo.InvariantCulture, $"{i}/{s.Workers}"), "--outcomes", file, "--out", Path.Combine(folder, $"shard-{i}") })
                start.ArgumentList.Add(a);
            var p = Process.Start(start) ?? throw new InvalidOperationException("could not start a worker process (dotnet not on PATH?).");
            int index = i;
            p.OutputDataReceived += (_, e) => { if (e.Data is { Length: > 0 } line && line.StartsWith('[')) lock (log) log.WriteLine($"w{index} {line}"); };
            p.ErrorDataReceived += (_, e) => { if (e.Data is { Length: > 0 } line) lock (log) log.WriteLine($"w{index} stderr: {line}"); };
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            processes.Add(p);
        }
        foreach (var p in processes) p.WaitForExit();
        var failed = processes.Select((p, i) => (p.ExitCode, i)).Where(x => x.ExitCode != 0).ToList();
        if (failed.Count > 0) throw new InvalidOperationException($"worker(s) {string.Join(", ", failed.Select(f => $"{f.i} (exit {f.ExitCode})"))} failed; see the w… stderr lines above.");
        var outcomes = files.SelectMany(File.ReadLines).Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize<Line>(l)!).ToList();
        var missing = jobs.Except(outcomes.Select(o => o.Job)).ToList();
        if (missing.Count > 0) throw new InvalidOperationException($"{missing.Count} job(s) have no outcome after the workers finished, e.g. {missing[0]}.");
        return outcomes.Select(o => (o.Job, o.Outcome));
    }
}
