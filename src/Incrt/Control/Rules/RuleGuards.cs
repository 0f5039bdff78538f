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

    /// <summary>The unmasked probe loss of <paramref name="call"/>, or null when it is not finite.</summary>
    public static double? FiniteProbeLoss(LayerCall call)
    {
        double loss = call.ProbeLoss(Array.Empty<int>());
        return double.IsFinite(loss) ? loss : null;
    }

    /// <summary>The position of head <paramref name="id"/> in <paramref name="layer"/>, or −1 when it no longer exists.</summary>
    public static int IndexOf(GrowableMultiHeadAttention layer, long id)
    {
        for (int i = 0; i < layer.HeadIds.Count; i++) if (layer.HeadIds[i] == id) return i;
        return -1;
    }
}
