using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Incrt.Tasks.Data.SarsCov2;

/// <summary>Loading and parsing of the mutation table (<c>voc_spike_mutations.tsv</c>) and its link files.</summary>
public sealed partial class LineageCatalog
{
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
