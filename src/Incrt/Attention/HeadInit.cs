namespace Incrt.Attention;

/// <summary>
/// How a new head's parameters are initialised when it is added (docs/algorithm.md §5). Combine with
/// <see cref="WithFunctionPreserving"/>, e.g. <c>HeadInit.EigenSeeded(u).WithFunctionPreserving()</c>.
/// </summary>
public sealed record HeadInit
{
    private HeadInit(bool zeroOutput, double[]? direction, double[]? partner, double seedScale)
    {
        ZeroOutput = zeroOutput;
        Direction = direction;
        Partner = partner;
        SeedScale = seedScale;
    }

    /// <summary>When true the new head's output projection is zero, so it contributes nothing at insertion.</summary>
    public bool ZeroOutput { get; }

    /// <summary>Unit direction u the head's antisymmetric form is seeded with, or null for a purely random head.</summary>
    public double[]? Direction { get; }

    /// <summary>Partner direction v for the rank-2 skew seed; null draws a random direction orthogonal to u.</summary>
    public double[]? Partner { get; }

    /// <summary>Amplitude a of the seed: the head's bilinear form gets a²(u vᵀ − v uᵀ) from its first two columns.</summary>
    public double SeedScale { get; }

    /// <summary>Fresh random weights with the reference standard deviations σ_QK = σ_V = 1/√d, σ_O = 1/√d_v [ref-code].</summary>
    public static HeadInit Random { get; } = new(false, null, null, 1.0);

    /// <summary>Random weights but a zero output projection: the layer output is unchanged at insertion
    /// (exact with <see cref="HeadAggregation.Concat"/>; with <see cref="HeadAggregation.Mean"/> the other heads are
    /// rescaled by H/(H+1), so it is not).</summary>
    public static HeadInit FunctionPreserving { get; } = new(true, null, null, 1.0);

    /// <summary>
    /// Random weights whose first two Q/K columns are replaced by q₀ = a·u, k₀ = a·v, q₁ = −a·v, k₁ = a·u, so the head's
    /// bilinear form contains the pure rank-2 skew term a²(u vᵀ − v uᵀ) in the plane of u and v [inferred, §5].
    /// </summary>
    /// <param name="direction">The direction u (normalised here); typically the dominant residual direction u+.</param>
    /// <param name="partner">The partner v (orthogonalised against u and normalised); typically u−. Null: random.</param>
    /// <param name="seedScale">The amplitude a; must be finite and positive.</param>
    public static HeadInit EigenSeeded(IReadOnlyList<double> direction, IReadOnlyList<double>? partner = null, double seedScale = 1.0)
    {
        ArgumentNullException.ThrowIfNull(direction);
        if (direction.Count == 0) throw new ArgumentException("The seed direction must not be empty.", nameof(direction));
        if (direction.Any(v => !double.IsFinite(v)))
            throw new ArgumentException("The seed direction contains NaN or infinity.", nameof(direction));
        if (direction.All(v => v == 0)) throw new ArgumentException("The seed direction must not be the zero vector.", nameof(direction));
        if (partner is not null && partner.Any(v => !double.IsFinite(v)))
            throw new ArgumentException("The partner direction contains NaN or infinity.", nameof(partner));
        if (!(seedScale > 0) || !double.IsFinite(seedScale))
            throw new ArgumentOutOfRangeException(nameof(seedScale), seedScale, "seedScale must be finite and positive.");
        return new HeadInit(false, direction.ToArray(), partner?.ToArray(), seedScale);
    }

    /// <summary>The same initialisation with a zero output projection (see <see cref="FunctionPreserving"/>).</summary>
    public HeadInit WithFunctionPreserving() => new(true, Direction, Partner, SeedScale);

    /// <inheritdoc />
    public override string ToString() =>
        (Direction is null ? "Random" : "EigenSeeded") + (ZeroOutput ? "+FunctionPreserving" : "");
}
