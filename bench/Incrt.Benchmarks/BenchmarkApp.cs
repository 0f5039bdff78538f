using System.Runtime.InteropServices;
using Incrt.Samples.Common;
using Incrt.Tasks.Data;
using TorchSharp;

namespace Incrt.Benchmarks;

/// <summary>The benchmark app's entry point (Program.cs calls it; tests run it in-process).</summary>
/// <remarks>
/// Usage: Incrt.Benchmarks [--quick] [--tiny] [--case NAME[,NAME]] [--threads N[,N]] [--steps N] [--heads H[,H]] [--controllers loss,energy] [--device D] [--out DIR]
/// (<see cref="BenchmarkCommandLine"/>; <c>--help</c> lists them). --heads restricts the H grid of train/controller/surgery/e2e;
/// --tiny = --quick with the smallest grids, for the test.
/// Cases: train, controller, estimator, surgery, efficiency, soak, e2e, overhead (default: all; efficiency reuses train's timings).
/// Exit code 0, 1 when the soak (memory drift, NaN injection) fails, 2 on bad arguments.
/// </remarks>
public static class BenchmarkApp
{
    public static readonly string[] AllCases = { "train", "controller", "estimator", "surgery", "efficiency", "soak", "e2e", "overhead" };

    /// <summary>Runs the benchmarks; writes the markdown (and <c>--help</c>) to <paramref name="output"/>, the JSON under
    /// --out and argument errors to <paramref name="error"/> (default <see cref="Console.Error"/>). Restores the torch
    /// thread count on return.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter? error = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        int torchThreads = torch.get_num_threads();
        try { return SampleCommandLine.Invoke(BenchmarkCommandLine.Create(s => RunCore(s, args, output, error ?? Console.Error)), args, output, error); }
        finally
        {
            torch.set_num_threads(torchThreads);
            BenchDevice.Current = torch.CPU;
        }
    }

    private static int RunCore(BenchmarkSettings settings, string[] args, TextWriter output, TextWriter error)
    {
        var (device, deviceError) = BenchDevice.Resolve(settings.Device);
        if (device is null)
        {
            error.WriteLine($"error: {deviceError}");
            return SampleCommandLine.UsageErrorExitCode;
        }
        BenchDevice.Current = device;
        var cases = settings.Cases.Count > 0 ? settings.Cases.ToList() : AllCases.ToList();
        string? dataFolder = null;
        if (cases.Contains("e2e"))
        {
            try { dataFolder = DataPaths.Resolve(settings.Data); }           // before any case runs: a missing folder is a usage error
            catch (IOException e)
            {
                error.WriteLine($"error: {e.Message}");
                return SampleCommandLine.UsageErrorExitCode;
            }
        }
        bool quick = settings.Quick, tiny = settings.Tiny;
        string outDir = settings.Out;
        var threads = settings.Threads.ToList();
        int? soakSteps = settings.SoakSteps;
        int[]? heads = settings.Heads;
        if (threads.Count == 0) threads.AddRange(quick ? new[] { 1 } : new[] { 1, 2 });
        if (tiny) heads ??= new[] { 1 };

        var timing = tiny ? new Settings(Warmup: 1, Reps: 3, SampleMs: 10)
            : quick ? new Settings(Warmup: 2, Reps: 5, SampleMs: 30) : new Settings(Warmup: 3, Reps: 9, SampleMs: 150);
        var report = new RunReport
        {
            Command = "Incrt.Benchmarks " + string.Join(' ', args),
            StartedUtc = DateTimeOffset.UtcNow,
            Machine = new()
            {
                ["os"] = RuntimeInformation.OSDescription,
                ["arch"] = RuntimeInformation.ProcessArchitecture.ToString(),
                ["runtime"] = RuntimeInformation.FrameworkDescription,
                ["logicalCpus"] = Environment.ProcessorCount,
                ["cpu"] = CpuName(),
                ["torch"] = torch.__version__,
                ["torchDefaultThreads"] = torch.get_num_threads(),
                ["quick"] = quick,
                ["device"] = device.ToString(),
                ["cudaDevices"] = torch.cuda.is_available() ? torch.cuda.device_count() : 0,
                // glibc's heap trimming decides INCRT/peer ratios on this kind of box (docs/benchmarks.md, 2026-11-30 continued).
                ["mallocEnv"] = string.Join(' ', Environment.GetEnvironmentVariables().Keys.Cast<string>()
                    .Where(k => k.StartsWith("MALLOC_", StringComparison.Ordinal)).Order()
                    .Select(k => $"{k}={Environment.GetEnvironmentVariable(k)}")),
            },
        };
        output.WriteLine($"# Incrt benchmarks ({(tiny ? "tiny" : quick ? "quick" : "full")}), {report.StartedUtc:yyyy-MM-dd HH:mm} UTC");
        output.WriteLine($"{report.Machine["cpu"]}, {Environment.ProcessorCount} logical CPUs, {RuntimeInformation.FrameworkDescription}, LibTorch {torch.__version__}, device {device}");
        output.WriteLine();

        bool failed = false;
        foreach (var n in threads)
        {
            torch.set_num_threads(n);
            var o = new BenchOptions(quick, torch.get_num_threads(), soakSteps ?? (quick ? 2_000 : 10_000), timing, heads, tiny, settings.Controllers,
                settings.DModels, settings.Batch, dataFolder);
            var steps = new List<(long D, int H, long T, double IncrtMs, double PeerMs)>();
            foreach (var c in cases)
            {
                if (c == "soak" && n != threads[0]) continue;             // memory does not depend on the thread count
                if (c == "efficiency" && !cases.Contains("train")) Cases.TrainingStep(o, steps);
                Console.Error.WriteLine($"[{c}] threads = {n}");
                var r = c switch
                {
                    "train" => Cases.TrainingStep(o, steps),
                    "controller" => ControllerCase.Measure(o),
                    "estimator" => EstimatorCase.Measure(o),
                    "surgery" => Cases.Surgery(o),
                    "efficiency" => Cases.Efficiency(o, steps),
                    "e2e" => EndToEnd.Measure(o),
                    "overhead" => OverheadCase.Measure(o),
                    _ => Cases.Soak(o),
                };
                report.Cases.Add(r);
                output.WriteLine(r.Markdown());
                report.Write(outDir);                                      // after every case: an aborted run keeps its results
                if (c == "soak" && r.TargetMet == false) failed = true;
            }
        }
        var path = report.Write(outDir);
        output.WriteLine($"JSON: {path}");
        return failed ? 1 : 0;
    }

    private static string CpuName()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line?.Split(':', 2)[1].Trim() ?? "unknown";
        }
        catch (IOException) { return "unknown"; }
    }
}
