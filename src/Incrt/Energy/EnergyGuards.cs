using TorchSharp;
using static TorchSharp.torch;

namespace Incrt.Energy;

/// <summary>Shared argument checks and small tensor helpers for the energy estimator (internal).</summary>
internal static class EnergyGuards
{
    /// <summary>Throws unless <paramref name="t"/> is a floating-point (d, d) matrix.</summary>
    internal static void RequireSquare(Tensor t, string name, long? d = null)
    {
        ArgumentNullException.ThrowIfNull(t, name);
        if (t.dim() != 2 || t.shape[0] != t.shape[1] || (d is long n && t.shape[0] != n))
        {
            string expected = d is long m ? $"({m}, {m})" : "(d, d)";
            throw new ArgumentException($"{name} must have shape {expected}; got ({string.Join(", ", t.shape)}).", name);
        }
        RequireFloating(t, name);
    }

    /// <summary>Throws unless <paramref name="t"/> has a floating-point dtype.</summary>
    internal static void RequireFloating(Tensor t, string name)
    {
        if (!t.is_floating_point())
            throw new ArgumentException($"{name} must be a floating-point tensor; got {t.dtype}.", name);
    }

    /// <summary>A deterministic per-draw seed from a base seed and a draw counter (SplitMix64 finaliser).</summary>
    internal static ulong MixSeed(long seed, long draw)
    {
        ulong z = unchecked((ulong)seed + 0x9E3779B97F4A7C15UL * (ulong)(draw + 1));
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
