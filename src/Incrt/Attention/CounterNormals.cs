using static TorchSharp.torch;

namespace Incrt.Attention;

/// <summary>
/// Standard normals computed on any device from a seed and each element's index: SplitMix64 of the counter gives
/// two independent 53-bit uniforms per element, Box–Muller turns them into one normal. The result depends only on
/// (seed, shape), not on the device, and costs a few element-wise kernels, so a CUDA layer grows a head without
/// drawing on the host (TorchSharp's <see cref="Generator"/> is CPU-only).
/// </summary>
internal static class CounterNormals
{
    private const long Golden = unchecked((long)0x9E3779B97F4A7C15UL);    // SplitMix64's increment
    private const long Mix1 = unchecked((long)0xBF58476D1CE4E5B9UL);
    private const long Mix2 = unchecked((long)0x94D049BB133111EBUL);

    /// <summary>Float64 standard normals of <paramref name="shape"/> on <paramref name="device"/>.</summary>
    public static Tensor Draw(long[] shape, ulong seed, Device device)
    {
        long n = shape.Aggregate(1L, (a, b) => a * b);
        using var scope = NewDisposeScope();
        var i = arange(0, n, 1, ScalarType.Int64, device);
        var u1 = Uniform(i * 2, seed);                                    // counters 2i and 2i + 1: two streams
        var u2 = Uniform(i * 2 + 1, seed);
        var z = (u1.log_() * -2).sqrt_() * (u2 * (2 * Math.PI)).cos_();
        return z.reshape(shape).MoveToOuterDisposeScope();
    }

    /// <summary>A uniform in (0, 1) per counter: the top 53 bits of SplitMix64(seed + (c + 1)·γ), centred in its bin.</summary>
    private static Tensor Uniform(Tensor counter, ulong seed)
    {
        var z = (counter + 1) * Golden + unchecked((long)seed);           // int64 arithmetic wraps like uint64
        z = (z ^ Shr(z, 30)) * Mix1;
        z = (z ^ Shr(z, 27)) * Mix2;
        z ^= Shr(z, 31);
        return (Shr(z, 11).to(ScalarType.Float64) + 0.5) * Math.Pow(2, -53);
    }

    /// <summary>Logical right shift of int64 (torch's is arithmetic: mask off the copied sign bits).</summary>
    private static Tensor Shr(Tensor z, int k) => z.bitwise_right_shift(k).bitwise_and((1L << (64 - k)) - 1);
}
