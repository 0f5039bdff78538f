using System.Runtime.InteropServices;

namespace Incrt.Samples.Common;

/// <summary>
/// glibc heap settings for a training process. By default glibc returns freed heap memory to the system (trimming) and
/// serves large blocks with fresh mmaps; a training loop frees and re-allocates the same tensor sizes every step, so
/// it pays for page faults and trims over and over. Measured (docs/benchmarks.md, "issue 16, continued"; SST-2 sample
/// README): the SST-2 default run took 114 s instead of 150 s of wall time with identical results, and the training
/// step of small layers varied 0.4–2.6× against nn.MultiheadAttention between processes until trimming was off.
/// </summary>
/// <remarks>This changes the whole process, so it is the application's decision (the samples make it; the library
/// does not). Equivalent to starting the process with <c>MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=…</c>.
/// Memory freed by the process stays reserved for its own reuse instead of going back to the system.</remarks>
public static class NativeAllocator
{
    private const int TrimThreshold = -1, MmapThreshold = -3;   // glibc's M_TRIM_THRESHOLD and M_MMAP_THRESHOLD

    /// <summary>The environment variables that, when set, mean the user chose the heap settings themselves.</summary>
    public static readonly string[] UserSettings = ["MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES"];

    [DllImport("libc.so.6", EntryPoint = "mallopt")]
    private static extern int Mallopt(int parameter, int value);

    /// <summary>On Linux with glibc: keep freed memory for reuse (no trimming) and serve blocks up to 1 GiB from the heap.
    /// Does nothing when the user set one of <see cref="UserSettings"/>, on other systems, or without glibc (musl).</summary>
    /// <returns>True when both settings were applied.</returns>
    public static bool KeepFreedMemory(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        if (!OperatingSystem.IsLinux() || UserSettings.Any(v => !string.IsNullOrEmpty(environment(v)))) return false;
        try
        {
            return Mallopt(MmapThreshold, 1 << 30) == 1 & Mallopt(TrimThreshold, int.MaxValue) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }
}
