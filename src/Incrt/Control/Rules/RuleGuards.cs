using Incrt.Attention;
using static TorchSharp.torch;

namespace Incrt.Control;

/// <summary>Checks the rules share.</summary>
internal static class RuleGuards
{
    /// <summary>Whether every parameter of <paramref name="layer"/> (weights and biases) is finite.</summary>
    public static bool ParametersFinite(GrowableMultiHeadAttention layer)
    {
        using var scope = NewDisposeScope();
        return layer.parameters().All(p => p.isfinite().all().item<bool>());
    }
}
