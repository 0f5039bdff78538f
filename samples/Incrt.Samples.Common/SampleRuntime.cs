using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace Incrt.Samples.Common;

/// <summary>Device, threads and logging set-up shared by the samples.</summary>
public static class SampleRuntime
{
    /// <summary>Parses "cpu", "cuda", "cuda:1" or "auto" (CUDA when available, else CPU); sets torch's thread count
    /// when <paramref name="threads"/> &gt; 0 and the global seed; keeps freed heap memory for reuse
    /// (<see cref="NativeAllocator.KeepFreedMemory"/>).</summary>
    public static Device Configure(string device, int threads, int seed)
    {
        NativeAllocator.KeepFreedMemory();
        if (threads > 0) set_num_threads(threads);
        manual_seed(seed);
        if (string.Equals(device, "auto", StringComparison.OrdinalIgnoreCase))
            return cuda.is_available() ? CUDA : CPU;
        Device d;
        try { d = new Device(device); }
        catch (Exception e) // TorchSharp reports an unknown type as "Requested value 'GPU' was not found."
        {
            throw new ArgumentException($"--device must be cpu, cuda, cuda:N or auto; got '{device}'.", e);
        }
        if (d.type == DeviceType.CUDA && !cuda.is_available())
            throw new ArgumentException($"--device {device}: CUDA is not available (build with -p:TorchBackend=cuda on a CUDA machine).");
        return d;
    }

    /// <summary>A console logger factory (single-line, timestamps) for the library's ILogger output.</summary>
    public static ILoggerFactory ConsoleLogging(LogLevel level = LogLevel.Information) =>
        LoggerFactory.Create(b => b.SetMinimumLevel(level).AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        }));
}
