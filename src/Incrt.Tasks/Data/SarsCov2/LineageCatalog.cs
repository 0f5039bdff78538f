namespace Incrt.Tasks.Data.SarsCov2;

/// <summary>
/// The lineages of <c>voc_spike_mutations.tsv</c> (variant, lineage, mutation, kind, source, source_site,
/// parent_lineage, note) with parent resolution, and the spike protein of each lineage built from the reference.
/// </summary>
/// <remarks>
/// <para>The table lists, per lineage, only the rows that define it on top of its parent (e.g. BA.1's rows add to
/// B.1.1.529's). <see cref="GetProfile"/> therefore merges the resolved profiles of all parents (the first parent listed
/// wins when two parents disagree at a site), removes the <see cref="LineageLinks.Reversions"/> of the lineage, and then
/// applies the lineage's own rows, which replace any parent allele at the same position (e.g. BA.2.86's G339H replaces
/// B.1.1.529's G339D).</para>
/// <para>Parent names are resolved in this order: a lineage of exactly that name; for <c>Nextstrain XXX</c>, the Pango
/// display name of clade XXX if it is in the table; else the parent clade from the hierarchy (repeatedly). Names that
/// cannot be resolved (e.g. the root clade <c>Nextstrain 19A</c>) stand for Wuhan-Hu-1 and are listed in
/// <see cref="UnresolvedParents"/>.</para>
/// <para>Only substitution, deletion and insertion rows are applied. <c>synonymous</c> rows have no amino-acid effect;
/// <c>reversion</c> rows (<c>rev:nt22995C</c> …) are nucleotide reversions whose amino-acid effect the table does not
/// give, so they are kept in <see cref="Lineage.NonAminoAcidSites"/> and not applied.</para>
/// </remarks>
public sealed partial class LineageCatalog
{
    /// <summary>Prefix of lineage names that are Nextstrain clades without a Pango name.</summary>
    public const string NextstrainPrefix = "Nextstrain ";

    /// <summary>File name of the mutation table inside the data directory.</summary>
    public const string MutationTableFileName = "voc_spike_mutations.tsv";

    /// <summary>File name of the reference FASTA inside the data directory.</summary>
    public const string ReferenceFileName = "reference_spike.fasta";

    private static readonly string[] RequiredColumns = ["variant", "lineage", "mutation", "kind", "parent_lineage"];

    private readonly Dictionary<string, Lineage> _byName;
    private readonly LineageLinks _links;
    private readonly Dictionary<string, IReadOnlyList<SpikeMutation>> _profiles = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _unresolved = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _byFullPangoName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IReadOnlyList<string>> _parents = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IReadOnlyList<SpikeMutation>> _additions = new(StringComparer.Ordinal);

    private LineageCatalog(SpikeReference reference, List<Lineage> lineages, LineageLinks links)
    {
        Reference = reference;
        Lineages = lineages;
        _byName = lineages.ToDictionary(l => l.Name, StringComparer.Ordinal);
        _links = links;
        foreach (var l in lineages)
        {
            if (l.IsNextstrainClade || l.Name.Contains('+') || l.Name.Contains('-')) continue;
            _byFullPangoName.TryAdd(ExpandPangoAlias(l.Name), l.Name);
        }
        foreach (var (name, added) in links.Additions)
        {
            if (!_byName.ContainsKey(name)) continue;
            var list = new List<SpikeMutation>(added.Count);
            foreach (var text in added)
            {
                if (!SpikeMutation.TryParse(text, out var mu)) throw new InvalidDataException($"Addition to '{name}': cannot parse mutation '{text}'.");
                if (mu.From is { } from && (mu.Position > reference.Length || reference.ResidueAt(mu.Position) != from))
                    throw new InvalidDataException($"Addition to '{name}': mutation '{text}' does not match the reference.");
                list.Add(mu);
            }
            _additions[name] = list;
        }
        foreach (var l in lineages)
        {
            // Rows that name only a Nextstrain clade (BA.3.2 → 21M, whose rows hold just the clade marker N679K) miss
            // the Pango ancestor that carries the profile (BA.3); a Pango parent in the table comes first.
            var pango = PangoParent(l.Name);
            _parents[l.Name] = l.ParentNames.Count == 0 ? (pango is null ? [] : [pango])
                : pango is not null && !pango.StartsWith(NextstrainPrefix, StringComparison.Ordinal) && !l.ParentNames.Any(p => TryResolve(p) == pango)
                    ? [pango, .. l.ParentNames] : l.ParentNames;
            foreach (var raw in _parents[l.Name]) ResolveParent(raw);
        }
    }

    /// <summary>The reference all mutations are numbered against.</summary>
    public SpikeReference Reference { get; }

    /// <summary>All lineages: the table's in order of first appearance, then any bridging constellations.</summary>
    public IReadOnlyList<Lineage> Lineages { get; }

    /// <summary>Parent names (as written in the table) that resolve to no lineage and are treated as Wuhan-Hu-1.</summary>
    public IReadOnlyCollection<string> UnresolvedParents => _unresolved;

    /// <summary>The distinct non-blank WHO labels of the table, in ordinal order.</summary>
    public IReadOnlyList<string> WhoLabels =>
        Lineages.Select(l => l.WhoLabel).OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    /// <summary>Returns <see langword="true"/> when a lineage of that name exists.</summary>
    /// <param name="name">Lineage name, e.g. <c>BA.1</c>.</param>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The lineage of that name.</summary>
    /// <param name="name">Lineage name, e.g. <c>BA.1</c>.</param>
    /// <exception cref="KeyNotFoundException">No such lineage.</exception>
    public Lineage Get(string name) =>
        _byName.TryGetValue(name, out var l) ? l : throw new KeyNotFoundException($"Lineage '{name}' is not in the catalog.");

    /// <summary>Lineages labelled with a WHO variant name, in table order.</summary>
    /// <param name="whoLabel">WHO label, e.g. <c>Delta</c>.</param>
    /// <param name="excludeNextstrainClades">Leave out <c>Nextstrain …</c> clades when the label has at least one named lineage.</param>
    public IReadOnlyList<Lineage> WithWhoLabel(string whoLabel, bool excludeNextstrainClades = true)
    {
        var all = Lineages.Where(l => l.WhoLabel == whoLabel).ToList();
        if (!excludeNextstrainClades) return all;
        var named = all.Where(l => !l.IsNextstrainClade).ToList();
        return named.Count > 0 ? named : all;
    }

    /// <summary>The resolved parent (a lineage name) of a parent name as written in the table, or <see langword="null"/> for Wuhan-Hu-1.</summary>
    /// <param name="parentName">A <c>parent_lineage</c> value, e.g. <c>Nextstrain 21L</c>.</param>
    public string? ResolveParent(string parentName)
    {
        ArgumentNullException.ThrowIfNull(parentName);
        var resolved = TryResolve(parentName);
        if (resolved is null) _unresolved.Add(parentName);
        return resolved;
    }

    /// <summary>
    /// The parent names of a lineage: its Pango parent (<see cref="PangoParent"/>) when that is a lineage of the table
    /// its rows do not already name, then its rows' <c>parent_lineage</c> values; with no rows' parent, the Pango parent
    /// alone (which may be a Nextstrain clade, <c>B.1</c> → <c>Nextstrain 20A</c>); else none (Wuhan-Hu-1).
    /// </summary>
    /// <param name="name">Lineage name.</param>
    public IReadOnlyList<string> ParentsOf(string name) => _parents.TryGetValue(name, out var p) ? p : Get(name).ParentNames;

    /// <summary>
    /// The nearest Pango ancestor of <paramref name="name"/> that the catalog holds: for a constellation
    /// <c>X+M</c> the lineage <c>X</c>; otherwise the alias is expanded (<see cref="LineageLinks.PangoAliases"/>,
    /// <c>P.1</c> → <c>B.1.1.28.1</c>) and the last component dropped until a lineage of the table (by its own expanded
    /// name) or a <see cref="LineageLinks.PangoCladeBridges"/> entry (<c>B.1</c> → <c>Nextstrain 20A</c>) matches.
    /// <see langword="null"/> for Nextstrain clades, recombinant parents and lineages with no such ancestor (<c>A.23.1</c>).
    /// </summary>
    /// <param name="name">Lineage name, e.g. <c>B.1.1.7</c>.</param>
    public string? PangoParent(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.StartsWith(NextstrainPrefix, StringComparison.Ordinal)) return null;
        int plus = name.IndexOf('+', StringComparison.Ordinal);
        if (plus > 0) return TryResolve(name[..plus]) ?? PangoParent(name[..plus]);
        if (name.Contains('-')) return null;
        var parts = ExpandPangoAlias(name).Split('.');
        for (int n = parts.Length - 1; n >= 1; n--)
        {
            string candidate = string.Join('.', parts[..n]);
            if (_byFullPangoName.TryGetValue(candidate, out var lineage)) return lineage;
            if (_links.PangoCladeBridges.TryGetValue(candidate, out var clade) && TryResolve(clade) is { } bridged) return bridged;
        }
        return null;
    }

    private string ExpandPangoAlias(string name)
    {
        int dot = name.IndexOf('.', StringComparison.Ordinal);
        string head = dot < 0 ? name : name[..dot];
        return _links.PangoAliases.TryGetValue(head, out var full) ? full + (dot < 0 ? "" : name[dot..]) : name;
    }

    private string? TryResolve(string parentName)
    {
        string current = parentName;
        for (int guard = 0; guard < 64; guard++)
        {
            if (_byName.ContainsKey(current)) return current;
            if (!current.StartsWith(NextstrainPrefix, StringComparison.Ordinal)) break;
            string clade = current[NextstrainPrefix.Length..];
            if (_links.CladeDisplayNames.TryGetValue(clade, out var pango) && _byName.ContainsKey(pango)) return pango;
            if (!_links.CladeParents.TryGetValue(clade, out var up)) break;
            current = NextstrainPrefix + up;
        }
        return null;
    }

    /// <summary>The chain of resolved ancestors, nearest first, following every parent (breadth-first, without repeats).</summary>
    /// <param name="name">Lineage name.</param>
    public IReadOnlyList<string> GetAncestors(string name)
    {
        var result = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal) { name };
        var queue = new Queue<string>();
        queue.Enqueue(name);
        while (queue.Count > 0)
        {
            foreach (var raw in ParentsOf(queue.Dequeue()))
            {
                if (ResolveParent(raw) is { } p && seen.Add(p))
                {
                    result.Add(p);
                    queue.Enqueue(p);
                }
            }
        }
        return result;
    }

    /// <summary>
    /// The full amino-acid mutation set of a lineage relative to Wuhan-Hu-1: parents' profiles merged, documented
    /// reversions removed, own rows applied on top. Sorted by position (an insertion after the residue it follows).
    /// </summary>
    /// <param name="name">Lineage name, e.g. <c>BA.1</c>.</param>
    /// <exception cref="InvalidDataException">The parent relation has a cycle.</exception>
    public IReadOnlyList<SpikeMutation> GetProfile(string name) => ResolveProfile(name, new List<string>());

    /// <summary>The spike protein of a lineage: <see cref="GetProfile"/> applied to <see cref="Reference"/>.</summary>
    /// <param name="name">Lineage name, e.g. <c>B.1.1.7</c>.</param>
    /// <exception cref="InvalidDataException">A mutation's "from" residue does not match the reference.</exception>
    public string BuildSpike(string name)
    {
        try
        {
            return SpikeMutation.Apply(Reference, GetProfile(name));
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"Lineage '{name}': {e.Message}", e);
        }
    }

    private IReadOnlyList<SpikeMutation> ResolveProfile(string name, List<string> stack)
    {
        if (_profiles.TryGetValue(name, out var cached)) return cached;
        var lineage = Get(name);
        if (stack.Contains(name)) throw new InvalidDataException($"Parent cycle: {string.Join(" -> ", stack)} -> {name}.");
        stack.Add(name);
        var merged = new Dictionary<(int, bool), SpikeMutation>();
        foreach (var raw in ParentsOf(name))
        {
            if (ResolveParent(raw) is not { } parent) continue;
            foreach (var m in ResolveProfile(parent, stack)) merged.TryAdd(m.Site, m);
        }
        if (_links.Reversions.TryGetValue(name, out var reverted))
        {
            foreach (int pos in reverted) merged.Remove((pos, false));
        }
        if (_additions.TryGetValue(name, out var added))
        {
            foreach (var m in added) merged[m.Site] = m;
        }
        foreach (var m in lineage.Mutations) merged[m.Site] = m;
        stack.RemoveAt(stack.Count - 1);
        var profile = merged.Values.OrderBy(m => m.Position).ThenBy(m => m.Kind == SpikeMutationKind.Insertion ? 1 : 0).ToList();
        _profiles[name] = profile;
        return profile;
    }
}
