using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Incrt.Benchmarks;

/// <summary>Warm-up, repeated timed samples and medians. Two workloads are interleaved so their ratio is measured
/// under the same machine load (the box is shared and noisy).</summary>
internal static class Harness
{
    public static double Median(IReadOnlyList<double> v)
    {
        var s = v.OrderBy(x => x).ToArray();
        if (s.Length == 0) return double.NaN;
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    /// <summary>Milliseconds of one call of <paramref name="a"/>, once.</summary>
    public static double TimeOnce(Action a)
    {
        BenchDevice.Sync();
        var sw = Stopwatch.StartNew();
        a();
        BenchDevice.Sync();
        return sw.Elapsed.TotalMilliseconds;
    }

    /// <summary>How many calls make a sample of at least <paramref name="targetMs"/> (after warm-up).</summary>
    public static int InnerCount(Action a, double targetMs)
    {
        double one = Math.Max(1e-3, Median(new[] { TimeOnce(a), TimeOnce(a), TimeOnce(a) }));
        return Math.Clamp((int)Math.Ceiling(targetMs / one), 1, 100_000);
    }

    /// <summary>Per-call milliseconds of <paramref name="a"/> and <paramref name="b"/>, sampled alternately
    /// (A B, B A, A B, ...). Returns per-sample arrays and the per-sample ratios a/b.</summary>
    public static Paired Interleaved(Action a, Action b, Settings s)
    {
        for (int i = 0; i < s.Warmup; i++) { a(); b(); }
        int na = InnerCount(a, s.SampleMs), nb = InnerCount(b, s.SampleMs);
        var ta = new List<double>(); var tb = new List<double>(); var r = new List<double>(); var rc = new List<double>();
        for (int rep = 0; rep < s.Reps; rep++)
        {
            double x, y, cx, cy;
            if (rep % 2 == 0) { x = Sample(a, na); cx = LastCpuMs; y = Sample(b, nb); cy = LastCpuMs; }
            else { y = Sample(b, nb); cy = LastCpuMs; x = Sample(a, na); cx = LastCpuMs; }
            ta.Add(x); tb.Add(y); r.Add(x / y); rc.Add(cx / cy);
        }
        return new Paired(ta.ToArray(), tb.ToArray(), r.ToArray(), rc.ToArray());
    }

    /// <summary>Per-call milliseconds of <paramref name="a"/>: warm-up then <see cref="Settings.Reps"/> samples.</summary>
    public static double[] Single(Action a, Settings s)
    {
        for (int i = 0; i < s.Warmup; i++) a();
        int n = InnerCount(a, s.SampleMs);
        return Enumerable.Range(0, s.Reps).Select(_ => Sample(a, n)).ToArray();
    }

    private static double Sample(Action a, int n)
    {
        BenchDevice.Sync();                      // CUDA: time the work, not its queueing
        double cpu0 = CpuMs();
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < n; i++) a();
        BenchDevice.Sync();
        double wall = sw.Elapsed.TotalMilliseconds / n;
        LastCpuMs = (CpuMs() - cpu0) / n;
        return wall;
    }

    /// <summary>Process CPU milliseconds per call of the last sample: robust against other processes on the box
    /// (a loaded machine stretches wall time, not CPU time), but blind to idle waits.</summary>
    [ThreadStatic] public static double LastCpuMs;

    /// <summary>CPU time of the whole process (all threads) in milliseconds.</summary>
    public static double CpuMs()
    {
        if (OperatingSystem.IsLinux() && clock_gettime(2 /* CLOCK_PROCESS_CPUTIME_ID */, out var ts) == 0)
            return ts.Seconds * 1e3 + ts.Nanoseconds / 1e6;
        return Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec { public long Seconds; public long Nanoseconds; }

    [DllImport("libc", SetLastError = false)]
    private static extern int clock_gettime(int clockId, out TimeSpec ts);
}

internal sealed record Paired(double[] A, double[] B, double[] Ratios, double[] CpuRatios)
{
    public double MedianCpuRatio => Harness.Median(CpuRatios);
    public double MedianA => Harness.Median(A);
    public double MedianB => Harness.Median(B);
    public double MedianRatio => Harness.Median(Ratios);
}

/// <summary>Timing settings: quick mode trades precision for a smoke run.</summary>
internal sealed record Settings(int Warmup, int Reps, double SampleMs);
