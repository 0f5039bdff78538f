using System.Runtime.Intrinsics.X86;
using System.Text.Json.Serialization;

namespace Incrt.Samples.Common;

/// <summary>
/// The CPU a run used, for results.json: LibTorch picks its vector kernels (and with them the rounding of every sum)
/// from the CPU's instruction set, so a seeded run is bit-identical only on a CPU with the same kernels. The same code
/// and seed gave 81.77 % on the box of 2026-11-30 and 81.08 % on the AVX-512 box of 2026-12-01 (samples/Incrt.Sst2/README.md).
/// </summary>
/// <param name="Model">The processor's model name (/proc/cpuinfo on Linux), or null where it cannot be read.</param>
/// <param name="Vector">The widest x86 vector extension the runtime reports: avx512, avx2, avx or sse4.2; "none" elsewhere.</param>
/// <param name="AtenCpuCapability">The ATEN_CPU_CAPABILITY variable (LibTorch's kernel choice override) when set, else null.</param>
public sealed record CpuDescription(
    [property: JsonPropertyName("model")] string? Model,
    [property: JsonPropertyName("vector")] string Vector,
    [property: JsonPropertyName("atenCpuCapability")] string? AtenCpuCapability)
{
    /// <summary>Describes the CPU this process runs on.</summary>
    public static CpuDescription Current() => new(ModelName(), VectorExtension(),
        Environment.GetEnvironmentVariable("ATEN_CPU_CAPABILITY") is { Length: > 0 } v ? v : null);

    private static string VectorExtension() =>
        Avx512F.IsSupported ? "avx512" : Avx2.IsSupported ? "avx2" : Avx.IsSupported ? "avx" : Sse42.IsSupported ? "sse4.2" : "none";

    private static string? ModelName()
    {
        try
        {
            if (!File.Exists("/proc/cpuinfo")) return null;
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line?[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}
