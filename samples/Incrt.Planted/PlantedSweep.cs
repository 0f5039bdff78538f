using System.Collections.Concurrent;
using System.Diagnostics;
using Incrt.Tasks.Planted;
using static TorchSharp.torch;

namespace Incrt.Planted;

/// <summary>One (family, K, seed) configuration: its fixed-H curve, the knee it shows, and the INCRT run.</summary>
internal sealed record PlantedRun(PlantedFamily Family, int K, int Seed, int Classes, IReadOnlyDictionary<int, TrainingOutcome> Fixed,
    TrainingOutcome? Incrt, int? MinimalHeads, bool SharpKnee, bool FlatAfterKnee);

/// <summary>Runs every configuration's trainings (in parallel when <see cref="PlantedSettings.Workers"/> &gt; 1) and
/// assembles them into <see cref="PlantedRun"/>s.</summary>
internal static class PlantedSweep
{
    private sealed record Job(PlantedFamily Family, int K, int Seed, int Heads, bool Grow);

    public static IReadOnlyList<PlantedRun> Run(PlantedSettings s, Device device, TextWriter log, Action<IReadOnlyList<PlantedRun>>? onConfiguration = null)
    {
        var jobs = new List<Job>();
        foreach (var family in s.Families)
            foreach (var seed in s.Seeds)
                foreach (var k in s.Ks)
                {
                    if (s.Fixed) for (int h = 1; h <= s.FixedFactor * k; h++) jobs.Add(new Job(family, k, seed, h, false));
                    if (s.Incrt) jobs.Add(new Job(family, k, seed, 1, true));
                }
        var done = new ConcurrentDictionary<Job, TrainingOutcome>();
        var clock = Stopwatch.StartNew();
        int finished = 0;
        var runs = new List<PlantedRun>();
        var emitted = new HashSet<(PlantedFamily, int, int)>();
        object gate = new();
        Parallel.ForEach(jobs, new ParallelOptions { MaxDegreeOfParallelism = s.Workers }, job =>
        {
            var task = PlantedTask.Create(s.Task(job.Family, job.K, job.Seed));
            var outcome = PlantedTraining.Run(s, task, job.Seed, job.Heads, job.Grow ? s.Controller : null, device);
            done[job] = outcome;
            lock (gate)
            {
                finished++;
                log.WriteLine($"[{finished}/{jobs.Count} {clock.Elapsed:mm\\:ss}] {Name(job.Family)} K={job.K} seed={job.Seed} " +
                    (job.Grow ? $"INCRT 1 → {outcome.FinalHeads} heads (+{outcome.Grew} −{outcome.Pruned})" : $"fixed H={job.Heads}") +
                    $": accuracy {outcome.Accuracy:F3} (read-outs {outcome.ReadoutAccuracy:F3}) {outcome.Seconds:F1}s");
                // A configuration is complete when all its jobs are: assemble it and report.
                var key = (job.Family, job.K, job.Seed);
                var mine = jobs.Where(j => (j.Family, j.K, j.Seed) == key).ToList();
                if (!emitted.Contains(key) && mine.All(done.ContainsKey))
                {
                    emitted.Add(key);
                    var run = Assemble(s, task.Classes, key, mine.Where(j => !j.Grow).ToDictionary(j => j.Heads, j => done[j]),
                        mine.Where(j => j.Grow).Select(j => done[j]).FirstOrDefault());
                    runs.Add(run);
                    log.WriteLine($"    {Name(run.Family)} K={run.K} seed={run.Seed}: knee {run.MinimalHeads?.ToString() ?? "none"}" +
                        (run.MinimalHeads is null ? "" : $" (sharp {Y(run.SharpKnee)}, flat after {Y(run.FlatAfterKnee)})") +
                        (run.Incrt is { } g ? $", INCRT {g.FinalHeads} heads" : ""));
                    onConfiguration?.Invoke(Ordered(runs, s));
                }
            }
        });
        return Ordered(runs, s);
    }

    private static PlantedRun Assemble(PlantedSettings s, int classes, (PlantedFamily Family, int K, int Seed) key,
        Dictionary<int, TrainingOutcome> fixedRuns, TrainingOutcome? incrt)
    {
        var curve = fixedRuns.ToDictionary(p => p.Key, p => p.Value.Accuracy);
        int? knee = curve.Count == 0 ? null : KneeAnalysis.Knee(curve, s.KneeAccuracy);
        return new PlantedRun(key.Family, key.K, key.Seed, classes, fixedRuns, incrt, knee,
            knee is int h && KneeAnalysis.IsSharp(curve, h, s.KneeDrop), knee is int f && KneeAnalysis.IsFlatAfter(curve, f, s.KneeAccuracy));
    }

    private static List<PlantedRun> Ordered(List<PlantedRun> runs, PlantedSettings s) =>
        runs.OrderBy(r => s.Families.ToList().IndexOf(r.Family)).ThenBy(r => r.K).ThenBy(r => r.Seed).ToList();

    public static string Name(PlantedFamily family) => family == PlantedFamily.OffsetRetrieval ? "offset" : "marker";

    private static string Y(bool b) => b ? "y" : "n";
}
