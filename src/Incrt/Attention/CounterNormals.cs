using static TorchSharp.torch;

namespace Incrt.Attention;

/// <summary>
/// Standard normals computed on any device from a seed and each pair's index: SplitMix64 of counter c gives 64 bits,
/// the top 32 become Box–Muller's radius and the low 32 its angle, so one hash yields two independent normals
/// (r·cos θ for the first half of the result, r·sin θ for the second). The result depends only on (seed, shape), not
/// on the device, and costs about 30 element-wise kernels whatever its size, so a CUDA layer grows a head without
/// drawing on the host (TorchSharp's <see cref="Generator"/> is CPU-only) and without a launch-bound tail.
/// </summary>
internal static class CounterNormals
{
    private const long Golden = unchecked((long)0x9E3779B97F4A7C15UL);    // SplitMix64's increment
    private const long Mix1 = unchecked((long)0xBF58476D1CE4E5B9UL);
    private const long Mix2 = unchecked((long)0x94D049BB133111EBUL);
    private const long Low32 = 0xFFFF_FFFFL;

    /// <summary>Float64 standard normals of <paramref name="shape"/> on <paramref name="device"/>.</summary>
    public static Tensor Draw(long[] shape, ulong seed, Device device)
    {
        long n = shape.Aggregate(1L, (a, b) => a * b);
        long pairs = (n + 1) / 2;
        using var scope = NewDisposeScope();
        // SplitMix64: state seed + (c + 1)·γ, then its finaliser; int64 arithmetic wraps like uint64.
        var z = arange(1, pairs + 1, 1, ScalarType.Int64, device).mul_(Golden).add_(unchecked((long)seed));
        z = z.bitwise_xor_(Shr(z, 30)).mul_(Mix1);
        z = z.bitwise_xor_(Shr(z, 27)).mul_(Mix2);
        z = z.bitwise_xor_(Shr(z, 31));
        // Uniforms centred in their 2⁻³² bins, so neither is 0: u₁ = (hi + ½)/2³², u₂ = (lo + ½)/2³².
        // √(−2 ln u₁) = √(64 ln 2 − 2 ln(hi + ½)).
        var r = Shr(z, 32).to(ScalarType.Float64).add_(0.5).log_().mul_(-2).add_(64 * Math.Log(2)).sqrt_();
        var theta = z.bitwise_and_(Low32).to(ScalarType.Float64).add_(0.5).mul_(2 * Math.PI / 4294967296.0);
        var normals = cat(new[] { r * theta.cos(), r.mul_(theta.sin_()) });
        return (n == 2 * pairs ? normals : normals.narrow(0, 0, n)).reshape(shape).MoveToOuterDisposeScope();
    }

    /// <summary>Logical right shift of int64 (torch's is arithmetic: mask off the copied sign bits).</summary>
    private static Tensor Shr(Tensor z, int k) => z.bitwise_right_shift(k).bitwise_and_((1L << (64 - k)) - 1);
}
