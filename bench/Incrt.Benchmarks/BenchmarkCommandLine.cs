using System.CommandLine;
using Incrt.Samples.Common;

namespace Incrt.Benchmarks;

/// <summary>What the command line asked for (before the per-mode defaults of <see cref="BenchmarkApp"/>).</summary>
/// <param name="Quick">Smaller grids and fewer repetitions (<c>--quick</c>, implied by <c>--tiny</c>).</param>
/// <param name="Tiny">The smallest grids (<c>--tiny</c>, for the test).</param>
/// <param name="Cases">Cases to run, in order; all when empty.</param>
/// <param name="Threads">Torch thread counts to run each case with; mode default when empty.</param>
/// <param name="SoakSteps">Soak length; mode default when null.</param>
/// <param name="Heads">Restricts the H grid of train/controller/surgery; null = the case's grid.</param>
/// <param name="Out">JSON output folder.</param>
/// <param name="Device">cpu, cuda, cuda:N or auto.</param>
/// <param name="Controllers">Controller presets of the controller and e2e cases (<see cref="BenchControllers"/>); all when empty.</param>
/// <param name="DModels">Replaces the d_model grid of train, controller and surgery; null = the case's grid.</param>
/// <param name="Batch">Batch size B of train and controller; null = <see cref="Cases.Batch"/>.</param>
/// <param name="Data">Folder holding sst2/ (or sst2 itself) for the e2e case; null = the default data folder.</param>
internal sealed record BenchmarkSettings(bool Quick, bool Tiny, IReadOnlyList<string> Cases, IReadOnlyList<int> Threads, int? SoakSteps,
    int[]? Heads, string Out, string Device = "cpu", IReadOnlyList<string>? Controllers = null, int[]? DModels = null, int? Batch = null, string? Data = null);

/// <summary>The benchmark app's command line (System.CommandLine; <c>--help</c> lists every option).</summary>
internal static class BenchmarkCommandLine
{
    /// <summary>Default JSON output folder.</summary>
    public static readonly string DefaultOut = Path.Combine("artifacts", "bench");

    /// <summary>The root command; its action passes the parsed <see cref="BenchmarkSettings"/> to <paramref name="run"/>,
    /// whose result is the exit code.</summary>
    public static RootCommand Create(Func<BenchmarkSettings, int> run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var quick = new Option<bool>("--quick") { Description = "Smoke run: smaller grids, fewer repetitions, 1 thread, 2,000 soak steps (< 1 min)." };
        var tiny = new Option<bool>("--tiny") { Description = "--quick with the smallest grids (H = 1), for the in-process test." };
        var cases = ListOption.Names("--case", "Cases to run, in order (default: all; efficiency reuses train's timings).", BenchmarkApp.AllCases);
        var threads = ListOption.Integers("--threads", "Torch intra-op thread counts; every case runs once per count (default 1,2; --quick 1).", minimum: 1);
        var steps = IntegerOption.AtLeast("--steps", "Soak length in training steps (default 10,000; --quick 2,000).", 1);
        var heads = ListOption.Integers("--heads", "Restrict the head-count grid H of train, controller, surgery and e2e.", minimum: 1);
        var dModels = ListOption.Integers("--d-model", "Replace the d_model grid of train, controller and surgery (e.g. 512 for issue 16's CUDA target; " +
            "H must divide it).", minimum: 1);
        var batch = IntegerOption.AtLeast("--batch", $"Batch size B of train and controller (default {Cases.Batch}).", 1);
        var data = new Option<string?>("--data") { Description = "The e2e case's data: a folder holding sst2/ (default: <repo>/../shared/data, or $INCRT_DATA)." };
        var controllers = ListOption.Names("--controllers", "Controller presets the controller and e2e cases compare: loss " +
            "(ControllerPresets.LossAware, the default preset, with a loss probe), energy (ControllerPresets.Energy), loss-every (the loss " +
            "preset with MaxPruneEverySteps = null: a prune check every PruneEverySteps) and loss-unbounded (loss-every with PruneProbeHeads = null: " +
            "every head masked in every check) (default: loss,energy).", BenchControllers.Accepted);
        var device = new Option<string>("--device") { Description = "cpu | cuda | cuda:N | auto: where layers, inputs and models live; CUDA timings are synchronised (default cpu).", DefaultValueFactory = _ => "cpu" };
        device.Validators.Add(r =>
        {
            var v = r.GetValueOrDefault<string>();
            if (!BenchDevice.IsValidName(v)) r.AddError($"--device must be cpu, cuda, cuda:N or auto; got '{v}'.");
        });
        var output = new Option<string>("--out") { Description = "Folder of the JSON report (bench-*.json).", DefaultValueFactory = _ => DefaultOut };

        var root = new RootCommand("Incrt benchmarks: INCRT's growable attention against TorchSharp's fixed nn.MultiheadAttention, in one process. " +
            "Exit code 0, 1 when the soak (memory drift, NaN injection) fails, 2 on bad arguments.");
        foreach (var o in new Option[] { quick, tiny, cases, threads, steps, heads, dModels, batch, controllers, device, data, output }) root.Options.Add(o);
        root.SetAction(p =>
        {
            bool isTiny = p.GetValue(tiny);
            var givenHeads = p.GetValue(heads);
            return run(new BenchmarkSettings(
                Quick: isTiny || p.GetValue(quick),
                Tiny: isTiny,
                Cases: p.GetValue(cases) ?? [],
                Threads: p.GetValue(threads) ?? [],
                SoakSteps: p.GetValue(steps),
                Heads: givenHeads is { Length: > 0 } ? givenHeads : null,
                Out: p.GetValue(output)!,
                Device: p.GetValue(device)!,
                Controllers: p.GetValue(controllers) ?? [],
                DModels: p.GetValue(dModels) is { Length: > 0 } givenD ? givenD : null,
                Batch: p.GetValue(batch),
                Data: p.GetValue(data)));
        });
        return root;
    }
}
