namespace Incrt.Attention;

/// <summary>How the per-head outputs are combined into the layer output (docs/algorithm.md §1).</summary>
public enum HeadAggregation
{
    /// <summary>
    /// Standard multi-head attention: each head has its own output projection W_O,h and the projected head outputs are
    /// summed (equivalently, the concatenated heads times one output matrix). Default.
    /// </summary>
    Concat,

    /// <summary>
    /// The INCRT reference code's choice: the projected head outputs are averaged (the Concat result divided by H).
    /// Growth is then not function preserving, because the divisor changes from H to H + 1.
    /// </summary>
    Mean,
}
