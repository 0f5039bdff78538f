using System.Text.RegularExpressions;
using TorchSharp;
using static TorchSharp.torch;

namespace Incrt.Benchmarks;

/// <summary>The device every case runs on (<c>--device</c>), and the synchronisation that makes wall-clock timings of
/// asynchronous CUDA work honest: a sample starts and ends with <see cref="Sync"/>.</summary>
internal static partial class BenchDevice
{
    /// <summary>Device of the layers, inputs and models (default CPU).</summary>
    public static Device Current { get; set; } = CPU;

    /// <summary>Whether <see cref="Current"/> is a CUDA device.</summary>
    public static bool IsCuda => Current.type == DeviceType.CUDA;

    /// <summary>Waits for the queued CUDA work of <see cref="Current"/>; nothing on the CPU.</summary>
    public static void Sync()
    {
        if (IsCuda) cuda.synchronize(Current);
    }

    /// <summary>Whether <paramref name="value"/> is cpu, auto, cuda or cuda:N (the command-line check).</summary>
    public static bool IsValidName(string value) => NamePattern().IsMatch(value);

    /// <summary>The device named <paramref name="value"/> (auto: CUDA when available), or an error message.</summary>
    public static (Device? Device, string? Error) Resolve(string value)
    {
        if (value == "auto") return (cuda.is_available() ? CUDA : CPU, null);
        var device = new Device(value);
        if (device.type == DeviceType.CUDA && !cuda.is_available())
            return (null, $"--device {value}: CUDA is not available (build with -p:TorchBackend=cuda or -p:TorchBackend=none against a CUDA LibTorch; docs/native-loading.md).");
        return (device, null);
    }

    [GeneratedRegex("^(cpu|auto|cuda(:[0-9]+)?)$")]
    private static partial Regex NamePattern();
}
