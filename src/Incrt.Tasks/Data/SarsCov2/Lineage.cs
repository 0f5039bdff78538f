namespace Incrt.Tasks.Data.SarsCov2;

/// <summary>
/// One lineage (or constellation, or Nextstrain clade) of <c>voc_spike_mutations.tsv</c> with only the rows the
/// table lists for it. Use <see cref="LineageCatalog.GetProfile"/> for the full, parent-resolved mutation set.
/// </summary>
public sealed class Lineage
{
    internal Lineage(string name, string? whoLabel, IReadOnlyList<SpikeMutation> mutations, IReadOnlyList<string> parentNames,
        IReadOnlyList<string> nonAminoAcidSites, bool fromTable)
    {
        Name = name;
        WhoLabel = whoLabel;
        Mutations = mutations;
        ParentNames = parentNames;
        NonAminoAcidSites = nonAminoAcidSites;
        IsFromTable = fromTable;
    }

    /// <summary>Pango lineage, constellation name (<c>B.1.1.7+E484K</c>, <c>XBB-parent1</c>) or <c>Nextstrain 20I</c>.</summary>
    public string Name { get; }

    /// <summary>WHO label (Alpha, …, Omicron) from the table's <c>variant</c> column, or <see langword="null"/> when blank.</summary>
    public string? WhoLabel { get; }

    /// <summary>The amino-acid rows (substitution, deletion, insertion) listed for this lineage, de-duplicated, in file order.</summary>
    public IReadOnlyList<SpikeMutation> Mutations { get; }

    /// <summary>The distinct <c>parent_lineage</c> values of this lineage's rows, in file order, exactly as written.</summary>
    public IReadOnlyList<string> ParentNames { get; }

    /// <summary>Synonymous (<c>syn:…</c>) and nucleotide-reversion (<c>rev:nt…</c>) sites: kept for reference, never applied.</summary>
    public IReadOnlyList<string> NonAminoAcidSites { get; }

    /// <summary>
    /// <see langword="false"/> for a lineage that has no spike rows in the table and was added only to bridge a
    /// parent chain (e.g. <c>XBB-parent2</c>, whose constellation defines no spike sites).
    /// </summary>
    public bool IsFromTable { get; }

    /// <summary><see langword="true"/> for a Nextstrain clade that has no Pango name in the table (<c>Nextstrain 20I</c>).</summary>
    public bool IsNextstrainClade => Name.StartsWith(LineageCatalog.NextstrainPrefix, StringComparison.Ordinal);

    /// <inheritdoc />
    public override string ToString() => Name;
}
