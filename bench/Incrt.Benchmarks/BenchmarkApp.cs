using System.Runtime.InteropServices;
using TorchSharp;

namespace Incrt.Benchmarks;

/// <summary>The benchmark app's entry point (Program.cs calls it; tests run it in-process).</summary>
/// <remarks>
/// Usage: Incrt.Benchmarks [--quick] [--tiny] [--case NAME[,NAME]] [--threads N[,N]] [--steps N] [--heads H[,H]] [--out DIR]
/// (--heads restricts the H grid of train/controller/surgery; --tiny = --quick with the smallest grids, for the test).
/// Cases: train, controller, surgery, efficiency, soak, e2e (default: all; efficiency reuses train's timings).
/// Exit code 0, 1 when the soak (memory drift, NaN injection) fails, 2 on bad arguments.
/// </remarks>
public static class BenchmarkApp
{
    public static readonly string[] AllCases = { "train", "controller", "surgery", "efficiency", "soak", "e2e" };

    /// <summary>Runs the benchmarks; writes the markdown to <paramref name="output"/> and the JSON under --out.
    /// Restores the torch thread count on return.</summary>
    public static int Run(string[] args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        int torchThreads = torch.get_num_threads();
        try { return RunCore(args, output); }
        finally { torch.set_num_threads(torchThreads); }
    }

    private static int RunCore(string[] args, TextWriter output)
    {
        bool quick = false, tiny = false;
        string outDir = Path.Combine("artifacts", "bench");
        var threads = new List<int>();
        var cases = new List<string>();
        int? soakSteps = null;
        int[]? heads = null;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--quick": quick = true; break;
                case "--tiny": quick = tiny = true; break;
                case "--case": cases.AddRange(Next().Split(',', StringSplitOptions.RemoveEmptyEntries)); break;
                case "--threads": threads.AddRange(Next().Split(',').Select(int.Parse)); break;
                case "--steps": soakSteps = int.Parse(Next()); break;
                case "--out": outDir = Next(); break;
                case "--heads": heads = Next().Split(',').Select(int.Parse).ToArray(); break;
                case "-h" or "--help":
                    output.WriteLine($"Incrt.Benchmarks [--quick] [--tiny] [--case {string.Join('|', AllCases)}[,..]] [--threads N[,N]] [--steps N] [--heads H[,H]] [--out DIR]");
                    return 0;
                default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
            }
        }
        if (cases.Count == 0) cases.AddRange(AllCases);
        if (cases.FirstOrDefault(c => !AllCases.Contains(c)) is { } bad) { Console.Error.WriteLine($"unknown case {bad}; cases: {string.Join(", ", AllCases)}"); return 2; }
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
            },
        };
        output.WriteLine($"# Incrt benchmarks ({(tiny ? "tiny" : quick ? "quick" : "full")}), {report.StartedUtc:yyyy-MM-dd HH:mm} UTC");
        output.WriteLine($"{report.Machine["cpu"]}, {Environment.ProcessorCount} logical CPUs, {RuntimeInformation.FrameworkDescription}, LibTorch {torch.__version__}");
        output.WriteLine();

        bool failed = false;
        foreach (var n in threads)
        {
            torch.set_num_threads(n);
            var o = new BenchOptions(quick, torch.get_num_threads(), soakSteps ?? (quick ? 2_000 : 10_000), timing, heads, tiny);
            var steps = new List<(long D, int H, long T, double IncrtMs, double PeerMs)>();
            foreach (var c in cases)
            {
                if (c == "soak" && n != threads[0]) continue;             // memory does not depend on the thread count
                if (c == "efficiency" && !cases.Contains("train")) Cases.TrainingStep(o, steps);
                Console.Error.WriteLine($"[{c}] threads = {n}");
                var r = c switch
                {
                    "train" => Cases.TrainingStep(o, steps),
                    "controller" => Cases.Controller(o),
                    "surgery" => Cases.Surgery(o),
                    "efficiency" => Cases.Efficiency(o, steps),
                    "e2e" => EndToEnd.Measure(o),
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
