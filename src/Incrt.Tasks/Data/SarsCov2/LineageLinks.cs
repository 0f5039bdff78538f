namespace Incrt.Tasks.Data.SarsCov2;

/// <summary>
/// Extra information that links the lineages of <c>voc_spike_mutations.tsv</c> into complete ancestry chains, and the
/// reversions and documented omissions that the table does not encode.
/// </summary>
/// <remarks>
/// The constellation rows of the table are the sites scorpio uses to <em>recognise</em> a lineage, not its full profile:
/// a Pango lineage such as <c>B.1.1.7</c> has no <c>parent_lineage</c>, so without these links it would not inherit
/// B.1's D614G, which every B.1 descendant carries (Alpha, Beta, Gamma, Delta and Omicron alike). A simulator that gives
/// D614G to Omicron only teaches a model "D614G ⇒ Omicron". <see cref="PangoAliases"/> and <see cref="PangoCladeBridges"/>
/// close those chains; <see cref="Additions"/> restores the omissions the data README lists.
/// </remarks>
public sealed record LineageLinks
{
    /// <summary>
    /// Nextstrain clade code → Pango name (from <c>nextstrain_clade_display_names.yml</c>, e.g. <c>21L</c> → <c>BA.2</c>).
    /// A parent written <c>Nextstrain 21L</c> resolves to lineage <c>BA.2</c> when the table has no lineage of that exact name.
    /// </summary>
    public IReadOnlyDictionary<string, string> CladeDisplayNames { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// Nextstrain clade code → parent clade code (from <c>nextstrain_clade_hierarchy.tsv</c>, e.g. <c>20B</c> → <c>20A</c>).
    /// Used to step over clades that have neither spike rows nor a Pango name in the table.
    /// </summary>
    public IReadOnlyDictionary<string, string> CladeParents { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// Constellation name → parent lineage for constellations with no spike sites (from the constellation JSON files,
    /// e.g. <c>XBB-parent2</c> → <c>XBB-parent1</c>). They are added as empty lineages so that chains do not break.
    /// </summary>
    public IReadOnlyDictionary<string, string> ConstellationParents { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// Lineage → positions at which the lineage carries the Wuhan-Hu-1 residue again although a parent mutated it.
    /// The parent's allele at these positions is dropped before the lineage's own rows are applied, and descendants
    /// inherit the reversion. Defaults to <see cref="DocumentedReversions"/>.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<int>> Reversions { get; init; } = DocumentedReversions;

    /// <summary>
    /// Pango alias prefix → the full name it stands for (e.g. <c>AY</c> → <c>B.1.617.2</c>, so <c>AY.4</c> is
    /// <c>B.1.617.2.4</c>). Used to find the Pango parent of a lineage whose rows name no parent. Defaults to
    /// <see cref="DefaultPangoAliases"/>.
    /// </summary>
    public IReadOnlyDictionary<string, string> PangoAliases { get; init; } = DefaultPangoAliases;

    /// <summary>
    /// Pango lineage → the Nextstrain clade (a lineage of the table, written <c>Nextstrain XXX</c>) that defines it, for
    /// the basal lineages that have no rows of their own. Defaults to <see cref="DefaultPangoCladeBridges"/>.
    /// </summary>
    public IReadOnlyDictionary<string, string> PangoCladeBridges { get; init; } = DefaultPangoCladeBridges;

    /// <summary>
    /// Lineage → mutations it carries that the table omits. They are applied like the lineage's own rows (after the
    /// parents' profile, before the table rows, which win at the same site) and inherited by descendants. Defaults to
    /// <see cref="DocumentedAdditions"/>.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Additions { get; init; } = DocumentedAdditions;

    /// <summary>
    /// The reversions named in the data README (section 2a): XBB and BA.2.86 do not carry BA.2's Q493R
    /// (position 493 reverts to Q). These are the only reversions applied by default.
    /// </summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<int>> DocumentedReversions { get; } =
        new Dictionary<string, IReadOnlyList<int>>(StringComparer.Ordinal)
        {
            ["XBB"] = [493],
            ["BA.2.86"] = [493],
        };

    /// <summary>
    /// The Pango aliases needed by the parentless lineages of the table (from the Pango alias key): <c>P</c> =
    /// B.1.1.28 (Gamma P.1, Zeta P.2, Theta P.3), <c>C</c> = B.1.1.1 (Lambda C.37), <c>AY</c> = B.1.617.2 (Delta),
    /// <c>BA</c> = B.1.1.529 (Omicron), <c>AV</c> = B.1.1.482, <c>Q</c> = B.1.1.7.
    /// </summary>
    public static IReadOnlyDictionary<string, string> DefaultPangoAliases { get; } =
        new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["P"] = "B.1.1.28",
            ["C"] = "B.1.1.1",
            ["AY"] = "B.1.617.2",
            ["BA"] = "B.1.1.529",
            ["AV"] = "B.1.1.482",
            ["Q"] = "B.1.1.7",
        };

    /// <summary>
    /// The basal Pango lineages and the Nextstrain clades that define them: B.1 = 20A (D614G), B.1.1 = 20B,
    /// B.1.1.1 = 20D. Every B.1 descendant thereby inherits D614G through <c>Nextstrain 20A</c>.
    /// </summary>
    public static IReadOnlyDictionary<string, string> DefaultPangoCladeBridges { get; } =
        new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["B.1"] = LineageCatalog.NextstrainPrefix + "20A",
            ["B.1.1"] = LineageCatalog.NextstrainPrefix + "20B",
            ["B.1.1.1"] = LineageCatalog.NextstrainPrefix + "20D",
        };

    /// <summary>
    /// The "known omissions" the data README lists (section 2a; general knowledge, not from the source files), restored:
    /// Beta L18F, R246I, K417N; Gamma L18F, D138Y, R190S, H655Y, V1176F; Delta's E156G/Δ157–158 on B.1.617.2 itself (the
    /// table has it on AY.4 only); Omicron's K417N on B.1.1.529 (BA.1 and BA.2 lack it in the table). D614G is not
    /// listed: it comes from the ancestry (B.1 = Nextstrain 20A).
    /// </summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> DocumentedAdditions { get; } =
        new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal)
        {
            ["B.1.351"] = ["L18F", "R246I", "K417N"],
            ["P.1"] = ["L18F", "D138Y", "R190S", "H655Y", "V1176F"],
            ["B.1.617.2"] = ["E156G", "F157-", "R158-"],
            ["B.1.1.529"] = ["K417N"],
        };
}
