// Incrt benchmarks: INCRT's growable attention against TorchSharp's fixed nn.MultiheadAttention, in one process.
// Usage: dotnet run -c Release --project bench/Incrt.Benchmarks -- [--quick] [--case NAME[,NAME]] [--threads N[,N]]
//        [--steps N] [--heads H[,H]] [--out DIR]   (--heads restricts the H grid of train/controller/surgery)
// Cases: train, controller, surgery, efficiency, soak (default: all; efficiency reuses train's timings).
using System.Runtime.InteropServices;
using Incrt.Benchmarks;
using TorchSharp;

var allCases = new[] { "train", "controller", "surgery", "efficiency", "soak" };
bool quick = false;
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
        case "--case": cases.AddRange(Next().Split(',', StringSplitOptions.RemoveEmptyEntries)); break;
        case "--threads": threads.AddRange(Next().Split(',').Select(int.Parse)); break;
        case "--steps": soakSteps = int.Parse(Next()); break;
        case "--out": outDir = Next(); break;
        case "--heads": heads = Next().Split(',').Select(int.Parse).ToArray(); break;
        case "-h" or "--help":
            Console.WriteLine("Incrt.Benchmarks [--quick] [--case train|controller|surgery|efficiency|soak[,..]] [--threads N[,N]] [--steps N] [--heads H[,H]] [--out DIR]");
            return 0;
        default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
    }
}
if (cases.Count == 0) cases.AddRange(allCases);
if (cases.FirstOrDefault(c => !allCases.Contains(c)) is { } bad) { Console.Error.WriteLine($"unknown case {bad}; cases: {string.Join(", ", allCases)}"); return 2; }
if (threads.Count == 0) threads.AddRange(quick ? new[] { 1 } : new[] { 1, 2 });

var timing = quick ? new Settings(Warmup: 2, Reps: 5, SampleMs: 30) : new Settings(Warmup: 3, Reps: 9, SampleMs: 150);
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
Console.WriteLine($"# Incrt benchmarks ({(quick ? "quick" : "full")}), {report.StartedUtc:yyyy-MM-dd HH:mm} UTC");
Console.WriteLine($"{report.Machine["cpu"]}, {Environment.ProcessorCount} logical CPUs, {RuntimeInformation.FrameworkDescription}, LibTorch {torch.__version__}");
Console.WriteLine();

bool failed = false;
foreach (var n in threads)
{
    torch.set_num_threads(n);
    var o = new BenchOptions(quick, torch.get_num_threads(), soakSteps ?? (quick ? 2_000 : 10_000), timing, heads);
    var steps = new List<(long D, int H, long T, double IncrtMs, double PeerMs)>();
    foreach (var c in cases)
    {
        if (c == "soak" && n != threads[0]) continue;                 // memory does not depend on the thread count
        if (c == "efficiency" && !cases.Contains("train")) Cases.TrainingStep(o, steps);
        Console.Error.WriteLine($"[{c}] threads = {n}");
        var r = c switch
        {
            "train" => Cases.TrainingStep(o, steps),
            "controller" => Cases.Controller(o),
            "surgery" => Cases.Surgery(o),
            "efficiency" => Cases.Efficiency(o, steps),
            _ => Cases.Soak(o),
        };
        report.Cases.Add(r);
        Console.WriteLine(r.Markdown());
        report.Write(outDir);                                          // after every case: an aborted run keeps its results
        if (c == "soak" && r.TargetMet == false) failed = true;
    }
}
Console.WriteLine("Case 6 (end-to-end SST-2 samples/s, controller on vs off): TODO, waits for the SST-2 sample.");
var path = report.Write(outDir);
Console.WriteLine($"JSON: {path}");
return failed ? 1 : 0;

static string CpuName()
{
    try
    {
        var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
        return line?.Split(':', 2)[1].Trim() ?? "unknown";
    }
    catch (IOException) { return "unknown"; }
}
