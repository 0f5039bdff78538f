using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Incrt.Data.SarsCov2;

/// <summary>
/// Extra information that links the lineages of <c>voc_spike_mutations.tsv</c> into complete parent chains, and the
/// reversions that the table does not encode.
/// </summary>
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
    /// The reversions named in the data README (section 2a): XBB and BA.2.86 do not carry BA.2's Q493R
    /// (position 493 reverts to Q). These are the only reversions applied by default.
    /// </summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<int>> DocumentedReversions { get; } =
        new Dictionary<string, IReadOnlyList<int>>(StringComparer.Ordinal)
        {
            ["XBB"] = [493],
            ["BA.2.86"] = [493],
        };
}

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

    private LineageCatalog(SpikeReference reference, List<Lineage> lineages, LineageLinks links)
    {
        Reference = reference;
        Lineages = lineages;
        _byName = lineages.ToDictionary(l => l.Name, StringComparer.Ordinal);
        _links = links;
        foreach (var l in lineages)
        {
            foreach (var p in l.ParentNames) ResolveParent(p);
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
        _unresolved.Add(parentName);
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
            foreach (var raw in Get(queue.Dequeue()).ParentNames)
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
        foreach (var raw in lineage.ParentNames)
        {
            if (ResolveParent(raw) is not { } parent) continue;
            foreach (var m in ResolveProfile(parent, stack)) merged.TryAdd(m.Site, m);
        }
        if (_links.Reversions.TryGetValue(name, out var reverted))
        {
            foreach (int pos in reverted) merged.Remove((pos, false));
        }
        foreach (var m in lineage.Mutations) merged[m.Site] = m;
        stack.RemoveAt(stack.Count - 1);
        var profile = merged.Values.OrderBy(m => m.Position).ThenBy(m => m.Kind == SpikeMutationKind.Insertion ? 1 : 0).ToList();
        _profiles[name] = profile;
        return profile;
    }

    /// <summary>
    /// Loads the catalog from the shared data directory: <c>reference_spike.fasta</c>, <c>voc_spike_mutations.tsv</c>,
    /// and, when present, <c>sources/nextstrain_clade_display_names.yml</c>, <c>sources/nextstrain_clade_hierarchy.tsv</c>
    /// and <c>constellations_definitions/c*.json</c> (for <see cref="LineageLinks"/>).
    /// </summary>
    /// <param name="directory">E.g. <c>/work/shared/data/sarscov2</c>.</param>
    public static LineageCatalog LoadDirectory(string directory)
    {
        var reference = SpikeReference.Load(Path.Combine(directory, ReferenceFileName));
        var display = new Dictionary<string, string>(StringComparer.Ordinal);
        string yml = Path.Combine(directory, "sources", "nextstrain_clade_display_names.yml");
        if (File.Exists(yml))
        {
            foreach (var line in File.ReadLines(yml))
            {
                var m = DisplayNameLine().Match(line);
                if (m.Success) display[m.Groups[1].Value] = m.Groups[2].Value.Trim();
            }
        }
        var cladeParents = new Dictionary<string, string>(StringComparer.Ordinal);
        string hierarchy = Path.Combine(directory, "sources", "nextstrain_clade_hierarchy.tsv");
        if (File.Exists(hierarchy))
        {
            foreach (var line in File.ReadLines(hierarchy).Skip(1))
            {
                var f = line.Split('\t');
                if (f.Length >= 2 && f[0].Length > 0 && f[1].Length > 0) cladeParents[f[0].Trim()] = f[1].Trim();
            }
        }
        var constellationParents = new Dictionary<string, string>(StringComparer.Ordinal);
        string defs = Path.Combine(directory, "constellations_definitions");
        if (Directory.Exists(defs))
        {
            foreach (var file in Directory.EnumerateFiles(defs, "c*.json").Order(StringComparer.Ordinal))
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(file),
                    new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
                if (!doc.RootElement.TryGetProperty("variant", out var v) || v.ValueKind != JsonValueKind.Object) continue;
                string? lineageName = v.TryGetProperty("lineage_name", out var ln) && ln.ValueKind == JsonValueKind.String ? ln.GetString() : null;
                if (string.IsNullOrEmpty(lineageName) && doc.RootElement.TryGetProperty("label", out var lab)) lineageName = lab.GetString();
                string? parent = v.TryGetProperty("parent_lineage", out var pl) && pl.ValueKind == JsonValueKind.String ? pl.GetString() : null;
                if (!string.IsNullOrEmpty(lineageName) && !string.IsNullOrEmpty(parent)) constellationParents[lineageName] = parent;
            }
        }
        var links = new LineageLinks { CladeDisplayNames = display, CladeParents = cladeParents, ConstellationParents = constellationParents };
        using var reader = new StreamReader(Path.Combine(directory, MutationTableFileName), Encoding.UTF8);
        return Parse(reader, reference, links, MutationTableFileName);
    }

    /// <summary>Parses a mutation table in the <c>voc_spike_mutations.tsv</c> format.</summary>
    /// <param name="tsv">The table text (header line first; columns found by name).</param>
    /// <param name="reference">The reference the positions refer to.</param>
    /// <param name="links">Parent-chain links and reversions; <see langword="null"/> for none beyond the table (documented reversions still apply).</param>
    /// <param name="sourceName">Name used in error messages.</param>
    /// <exception cref="InvalidDataException">
    /// A required column is missing, a row has the wrong number of fields, an unknown kind, a mutation that does not
    /// parse or does not match its kind, a "from" residue that differs from the reference, or two different alleles at
    /// one site within the same lineage. Messages name the line and the lineage.
    /// </exception>
    public static LineageCatalog Parse(TextReader tsv, SpikeReference reference, LineageLinks? links = null, string sourceName = "<tsv>")
    {
        ArgumentNullException.ThrowIfNull(tsv);
        ArgumentNullException.ThrowIfNull(reference);
        links ??= new LineageLinks();
        string? header = tsv.ReadLine();
        if (header is null) throw new InvalidDataException($"{sourceName}: empty file.");
        var cols = header.Split('\t').Select(c => c.Trim()).ToList();
        foreach (var rc in RequiredColumns)
        {
            if (!cols.Contains(rc)) throw new InvalidDataException($"{sourceName}: line 1: missing column '{rc}'.");
        }
        int iVariant = cols.IndexOf("variant"), iLineage = cols.IndexOf("lineage"), iMutation = cols.IndexOf("mutation"),
            iKind = cols.IndexOf("kind"), iParent = cols.IndexOf("parent_lineage");

        var order = new List<string>();
        var who = new Dictionary<string, string?>(StringComparer.Ordinal);
        var muts = new Dictionary<string, List<(SpikeMutation M, int Line)>>(StringComparer.Ordinal);
        var parents = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var other = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        string? line;
        int lineNo = 1;
        while ((line = tsv.ReadLine()) is not null)
        {
            lineNo++;
            if (line.Length == 0) continue;
            var f = line.Split('\t');
            if (f.Length != cols.Count)
            {
                throw new InvalidDataException($"{sourceName}: line {lineNo}: expected {cols.Count} tab-separated fields, found {f.Length}.");
            }
            string lineage = f[iLineage].Trim();
            if (lineage.Length == 0) throw new InvalidDataException($"{sourceName}: line {lineNo}: empty lineage.");
            string ctx = $"{sourceName}: line {lineNo} (lineage '{lineage}')";
            if (!muts.ContainsKey(lineage))
            {
                order.Add(lineage);
                muts[lineage] = [];
                parents[lineage] = [];
                other[lineage] = [];
                who[lineage] = null;
            }
            string variant = f[iVariant].Trim();
            if (variant.Length > 0 && who[lineage] is null) who[lineage] = variant;
            string parent = f[iParent].Trim();
            if (parent.Length > 0 && !parents[lineage].Contains(parent)) parents[lineage].Add(parent);
            string kind = f[iKind].Trim(), text = f[iMutation].Trim();
            SpikeMutationKind expected;
            switch (kind)
            {
                case "substitution": expected = SpikeMutationKind.Substitution; break;
                case "deletion": expected = SpikeMutationKind.Deletion; break;
                case "insertion": expected = SpikeMutationKind.Insertion; break;
                case "synonymous":
                case "reversion":
                    other[lineage].Add(text);
                    continue;
                default: throw new InvalidDataException($"{ctx}: unknown kind '{kind}'.");
            }
            if (!SpikeMutation.TryParse(text, out var mu)) throw new InvalidDataException($"{ctx}: cannot parse mutation '{text}'.");
            if (mu.Kind != expected) throw new InvalidDataException($"{ctx}: mutation '{text}' is not a {kind}.");
            if (mu.Position > reference.Length) throw new InvalidDataException($"{ctx}: mutation '{text}' lies beyond the reference ({reference.Length} aa).");
            if (mu.From is { } from && reference.ResidueAt(mu.Position) != from)
            {
                throw new InvalidDataException(
                    $"{ctx}: mutation '{text}' expects '{from}' at position {mu.Position}, but the reference has '{reference.ResidueAt(mu.Position)}'.");
            }
            var list = muts[lineage];
            int same = list.FindIndex(x => x.M.Site == mu.Site);
            if (same >= 0)
            {
                if (list[same].M == mu) continue;
                throw new InvalidDataException($"{ctx}: mutation '{text}' conflicts with '{list[same].M.Name}' on line {list[same].Line}.");
            }
            list.Add((mu, lineNo));
        }

        var lineages = order.Select(n => new Lineage(n, who[n], muts[n].Select(x => x.M).ToList(), parents[n], other[n], fromTable: true)).ToList();
        var known = new HashSet<string>(order, StringComparer.Ordinal);
        // Bridge constellations that define no spike sites but sit inside a chain (XBB-parent2 -> XBB-parent1).
        bool added = true;
        while (added)
        {
            added = false;
            foreach (var l in lineages.ToList())
            {
                foreach (var p in l.ParentNames)
                {
                    if (!known.Contains(p) && links.ConstellationParents.TryGetValue(p, out var pp))
                    {
                        lineages.Add(new Lineage(p, null, [], [pp], [], fromTable: false));
                        known.Add(p);
                        added = true;
                    }
                }
            }
        }
        return new LineageCatalog(reference, lineages, links);
    }

    [GeneratedRegex(@"^\s*([0-9]{2}[A-Z]):\s*\S+\s*\(([^)]+)\)\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex DisplayNameLine();
}
