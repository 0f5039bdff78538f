using System.Diagnostics;
using Incrt.Tasks.Planted;
using static TorchSharp.torch;

namespace Incrt.Planted;

/// <summary>One (family, K, seed) configuration: its fixed-H curve, the knee it shows, and the INCRT run.</summary>
internal sealed record PlantedRun(PlantedFamily Family, int K, int Seed, int Classes, IReadOnlyDictionary<int, TrainingOutcome> Fixed,
    TrainingOutcome? Incrt, int? MinimalHeads, bool SharpKnee, bool FlatAfterKnee, IReadOnlyDictionary<int, double>? Curve = null);

/// <summary>One training of the sweep: a fixed head count, or INCRT grown from one head.</summary>
internal sealed record PlantedJob(PlantedFamily Family, int K, int Seed, int Heads, bool Grow);

/// <summary>Runs every configuration's trainings and assembles them into <see cref="PlantedRun"/>s. With
/// <see cref="PlantedSettings.Workers"/> &gt; 1 the jobs are split over that many worker processes (TorchSharp training
/// loops on several threads of one process were measured to crash inside AdamW.step, so workers are processes).</summary>
internal static class PlantedSweep
{
    /// <summary>Every job of the sweep, in a fixed order (the shards split this list).</summary>
    public static IReadOnlyList<PlantedJob> Jobs(PlantedSettings s)
    {
        var jobs = new List<PlantedJob>();
        foreach (var family in s.Families)
            foreach (var seed in s.Seeds)
                foreach (var k in s.Ks)
                {
                    if (s.Fixed) for (int h = 1; h <= s.FixedFactor * k; h++) if (s.Heads is null || s.Heads.Contains(h)) jobs.Add(new PlantedJob(family, k, seed, h, false));
                    if (s.Incrt) jobs.Add(new PlantedJob(family, k, seed, s.IncrtStartHeads(k), true));
                }
        return jobs;
    }

    /// <summary>Runs the jobs of this process (all, or one shard's) and returns the assembled configurations.</summary>
    public static IReadOnlyList<PlantedRun> Run(PlantedSettings s, Device device, TextWriter log, Action<IReadOnlyList<PlantedRun>>? onConfiguration = null)
    {
        var jobs = Jobs(s);
        var done = new Dictionary<PlantedJob, TrainingOutcome>();
        var runs = new List<PlantedRun>();
        var clock = Stopwatch.StartNew();
        if (s.Workers > 1 && s.Shard is null)
        {
            foreach (var (job, outcome) in PlantedWorkers.Run(s, jobs, log)) done[job] = outcome;
            foreach (var key in jobs.Select(Key).Distinct()) runs.Add(Assemble(s, key, jobs, done));
            return Ordered(runs, s);
        }

        var mine = s.Shard is { } shard ? jobs.Where((_, i) => i % shard.Count == shard.Index).ToList() : jobs.ToList();
        int finished = 0;
        foreach (var job in mine)
        {
            var task = PlantedTask.Create(s.Task(job.Family, job.K, job.Seed));
            var outcome = PlantedTraining.Run(s, task, job.Seed, job.Heads, job.Grow ? s.Controller : null, device);
            done[job] = outcome;
            if (s.OutcomesFile is { } file) PlantedWorkers.Append(file, job, outcome);
            finished++;
            log.WriteLine($"[{finished}/{mine.Count} {clock.Elapsed:h\\:mm\\:ss}] {Name(job.Family)} K={job.K} seed={job.Seed} " +
                (job.Grow ? $"INCRT {job.Heads} → {outcome.FinalHeads} heads (+{outcome.Grew} −{outcome.Pruned})" : $"fixed H={job.Heads}") +
                $": accuracy {outcome.Accuracy:F3} (read-outs {outcome.ReadoutAccuracy:F3}) {outcome.Seconds:F1}s");
            if (s.Shard is not null) continue;
            var key = Key(job);
            if (jobs.Where(j => Key(j) == key).All(done.ContainsKey))
            {
                var run = Assemble(s, key, jobs, done);
                runs.Add(run);
                log.WriteLine($"    {Name(run.Family)} K={run.K} seed={run.Seed}: knee {run.MinimalHeads?.ToString() ?? "none"}" +
                    (run.MinimalHeads is null ? "" : $" (sharp {Y(run.SharpKnee)}, flat after {Y(run.FlatAfterKnee)})") +
                    (run.Incrt is { } g ? $", INCRT {g.FinalHeads} heads" : ""));
                onConfiguration?.Invoke(Ordered(runs, s));
            }
        }
        return Ordered(runs, s);
    }

    private static (PlantedFamily Family, int K, int Seed) Key(PlantedJob j) => (j.Family, j.K, j.Seed);

    private static PlantedRun Assemble(PlantedSettings s, (PlantedFamily Family, int K, int Seed) key, IReadOnlyList<PlantedJob> jobs,
        IReadOnlyDictionary<PlantedJob, TrainingOutcome> done)
    {
        var mine = jobs.Where(j => Key(j) == key).ToList();
        var fixedRuns = mine.Where(j => !j.Grow).ToDictionary(j => j.Heads, j => done[j]);
        var incrt = mine.Where(j => j.Grow).Select(j => done[j]).FirstOrDefault();
        var curve = fixedRuns.ToDictionary(p => p.Key, p => p.Value.Accuracy);
        if (curve.Count == 0 && s.PriorCurves?.GetValueOrDefault(PlantedSettings.CurveKey(Name(key.Family), key.K, key.Seed)) is { } prior)
            curve = prior.ToDictionary(p => p.Key, p => p.Value);
        int? knee = curve.Count == 0 ? null : KneeAnalysis.Knee(curve, s.KneeAccuracy);
        int classes = PlantedTask.Create(s.Task(key.Family, key.K, key.Seed)).Classes;
        return new PlantedRun(key.Family, key.K, key.Seed, classes, fixedRuns, incrt, knee,
            knee is int h && KneeAnalysis.IsSharp(curve, h, s.KneeDrop), knee is int f && KneeAnalysis.IsFlatAfter(curve, f, s.KneeAccuracy), curve);
    }

    private static List<PlantedRun> Ordered(List<PlantedRun> runs, PlantedSettings s) =>
        runs.OrderBy(r => s.Families.ToList().IndexOf(r.Family)).ThenBy(r => r.K).ThenBy(r => r.Seed).ToList();

    /// <summary>The family's short name used on the command line and in the outputs.</summary>
    public static string Name(PlantedFamily family) => family == PlantedFamily.OffsetRetrieval ? "offset" : "segment";

    private static string Y(bool b) => b ? "y" : "n";
}
