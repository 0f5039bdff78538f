using System.Text;

namespace Incrt.Tasks.Data.SarsCov2;

/// <summary>
/// Reads user data: a protein FASTA plus a table that maps sequence ids to labels, e.g. an NCBI Virus export
/// (protein FASTA download + the CSV/TSV of the result table).
/// </summary>
/// <remarks>
/// <para>The table may be tab- or comma-separated (the delimiter is the first of tab or comma found in the header line;
/// CSV fields may be double-quoted). Header names are compared case-insensitively after trimming, removing quotes and
/// turning spaces and hyphens into underscores. The id column is the first present of <see cref="IdColumnNames"/>
/// (<c>id</c>, <c>accession</c>, <c>protein_accession</c>, <c>accession_version</c>, <c>sequence_id</c>, <c>seq_id</c>,
/// <c>name</c>, <c>strain</c>); the label column the first present of <see cref="LabelColumnNames"/> (<c>label</c>,
/// <c>class</c>, <c>who_label</c>, <c>variant</c>, <c>pangolin</c>, <c>pango_lineage</c>, <c>lineage</c>, <c>clade</c>).
/// NCBI Virus exports have <c>Accession</c> and <c>Pangolin</c>. Explicit column names may be passed instead.</para>
/// <para>A FASTA record's id (first token of its header) is looked up exactly, then without its version suffix
/// (<c>QHD43416.1</c> ↔ <c>QHD43416</c>). A FASTA record without a label, or with an empty one, raises
/// <see cref="InvalidDataException"/> naming the record and its line. Table rows without a FASTA record are ignored.
/// The same id listed twice in the table with different labels is an error.</para>
/// </remarks>
public static class LabelledFasta
{
    /// <summary>Accepted id column headers, in priority order (normalised form).</summary>
    public static IReadOnlyList<string> IdColumnNames { get; } =
        ["id", "accession", "protein_accession", "accession_version", "sequence_id", "seq_id", "name", "strain"];

    /// <summary>Accepted label column headers, in priority order (normalised form).</summary>
    public static IReadOnlyList<string> LabelColumnNames { get; } =
        ["label", "class", "who_label", "variant", "pangolin", "pango_lineage", "lineage", "clade"];

    /// <summary>Reads a FASTA file and a label table file and returns one labelled record per FASTA record, in FASTA order.</summary>
    /// <param name="fastaPath">Protein FASTA.</param>
    /// <param name="labelTablePath">TSV or CSV with an id and a label column.</param>
    /// <param name="idColumn">Explicit id column header, or <see langword="null"/> to detect.</param>
    /// <param name="labelColumn">Explicit label column header, or <see langword="null"/> to detect.</param>
    public static IReadOnlyList<SpikeRecord> ReadFiles(string fastaPath, string labelTablePath, string? idColumn = null, string? labelColumn = null)
    {
        var fasta = ProteinFasta.ReadFile(fastaPath);
        using var reader = new StreamReader(labelTablePath, Encoding.UTF8);
        var labels = ReadLabelTable(reader, labelTablePath, idColumn, labelColumn);
        return Join(fasta, labels, fastaPath);
    }

    /// <summary>Reads FASTA and label table from readers; see <see cref="ReadFiles"/>.</summary>
    /// <param name="fasta">Protein FASTA text.</param>
    /// <param name="labelTable">Label table text.</param>
    /// <param name="idColumn">Explicit id column header, or <see langword="null"/> to detect.</param>
    /// <param name="labelColumn">Explicit label column header, or <see langword="null"/> to detect.</param>
    public static IReadOnlyList<SpikeRecord> Read(TextReader fasta, TextReader labelTable, string? idColumn = null, string? labelColumn = null)
    {
        var records = ProteinFasta.Read(fasta, "<fasta>");
        var labels = ReadLabelTable(labelTable, "<labels>", idColumn, labelColumn);
        return Join(records, labels, "<fasta>");
    }

    /// <summary>Reads the id → label map of a label table.</summary>
    /// <param name="reader">The table text.</param>
    /// <param name="sourceName">Name used in error messages.</param>
    /// <param name="idColumn">Explicit id column header, or <see langword="null"/> to detect.</param>
    /// <param name="labelColumn">Explicit label column header, or <see langword="null"/> to detect.</param>
    /// <exception cref="InvalidDataException">No id or label column, or an id listed twice with different labels.</exception>
    public static IReadOnlyDictionary<string, string> ReadLabelTable(TextReader reader, string sourceName = "<labels>", string? idColumn = null, string? labelColumn = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        string? header = reader.ReadLine();
        if (header is null) throw new InvalidDataException($"{sourceName}: empty label table.");
        header = header.TrimStart('\uFEFF');
        int tab = header.IndexOf('\t'), comma = header.IndexOf(',');
        char delimiter = tab >= 0 && (comma < 0 || tab < comma) ? '\t' : ',';
        var cols = SplitFields(header, delimiter).Select(Normalise).ToList();
        int iId = FindColumn(cols, idColumn, IdColumnNames, "id", sourceName);
        int iLabel = FindColumn(cols, labelColumn, LabelColumnNames, "label", sourceName);
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        var lines = new Dictionary<string, int>(StringComparer.Ordinal);
        string? line;
        int lineNo = 1;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNo++;
            if (line.Trim().Length == 0) continue;
            var f = SplitFields(line, delimiter);
            string id = iId < f.Count ? f[iId].Trim() : "";
            if (id.Length == 0) continue;
            string label = iLabel < f.Count ? f[iLabel].Trim() : "";
            if (map.TryGetValue(id, out var prev) && prev != label)
            {
                throw new InvalidDataException($"{sourceName}: line {lineNo}: id '{id}' has label '{label}' but line {lines[id]} gave '{prev}'.");
            }
            map[id] = label;
            lines.TryAdd(id, lineNo);
        }
        return map;
    }

    private static List<SpikeRecord> Join(IReadOnlyList<FastaRecord> fasta, IReadOnlyDictionary<string, string> labels, string fastaName)
    {
        var unversioned = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (id, label) in labels) unversioned.TryAdd(StripVersion(id), label);
        var result = new List<SpikeRecord>(fasta.Count);
        foreach (var r in fasta)
        {
            if (!labels.TryGetValue(r.Id, out var label) && !unversioned.TryGetValue(StripVersion(r.Id), out label))
            {
                throw new InvalidDataException($"{fastaName}: record '{r.Id}' (line {r.Line}) has no label in the label table.");
            }
            if (label.Length == 0) throw new InvalidDataException($"{fastaName}: record '{r.Id}' (line {r.Line}) has an empty label in the label table.");
            result.Add(new SpikeRecord(r.Id, label, r.Sequence));
        }
        return result;
    }

    private static string StripVersion(string id)
    {
        int dot = id.LastIndexOf('.');
        return dot > 0 && dot < id.Length - 1 && id.AsSpan(dot + 1).IndexOfAnyExceptInRange('0', '9') < 0 ? id[..dot] : id;
    }

    private static int FindColumn(List<string> cols, string? explicitName, IReadOnlyList<string> accepted, string what, string sourceName)
    {
        if (explicitName is not null)
        {
            int i = cols.IndexOf(Normalise(explicitName));
            return i >= 0 ? i : throw new InvalidDataException($"{sourceName}: line 1: no column '{explicitName}' (columns: {string.Join(", ", cols)}).");
        }
        foreach (var name in accepted)
        {
            int i = cols.IndexOf(name);
            if (i >= 0) return i;
        }
        throw new InvalidDataException($"{sourceName}: line 1: no {what} column; accepted headers: {string.Join(", ", accepted)} (found: {string.Join(", ", cols)}).");
    }

    private static string Normalise(string header) =>
        header.Trim().Trim('"').Trim().ToLowerInvariant().Replace(' ', '_').Replace('-', '_');

    /// <summary>Splits a line on the delimiter; for commas, double-quoted fields (with <c>""</c> escapes) are honoured.</summary>
    private static List<string> SplitFields(string line, char delimiter)
    {
        if (delimiter == '\t') return [.. line.Split('\t')];
        var fields = new List<string>();
        var sb = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { sb.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else sb.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == delimiter) { fields.Add(sb.ToString()); sb.Clear(); }
            else sb.Append(c);
        }
        fields.Add(sb.ToString());
        return fields;
    }
}
