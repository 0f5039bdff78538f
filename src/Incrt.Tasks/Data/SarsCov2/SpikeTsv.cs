using System.Text;

namespace Incrt.Tasks.Data.SarsCov2;

/// <summary>
/// Reads and writes labelled sequences as UTF-8 TSV with the header <c>id\tlabel\tsequence</c>.
/// </summary>
/// <remarks>
/// On reading, the header must name exactly these three columns (case-insensitive, in this order); blank lines are
/// skipped; sequences are upper-cased. Each data line must have three fields, a non-empty id not seen before, a
/// non-empty label and a non-empty sequence of the <see cref="AminoAcids"/> alphabet; one trailing <c>*</c> (a translated
/// stop codon) is stripped, any other <c>*</c> is an error. Any violation raises
/// <see cref="InvalidDataException"/> naming the source, the line number and the record id.
/// </remarks>
public static class SpikeTsv
{
    /// <summary>The header line.</summary>
    public const string Header = "id\tlabel\tsequence";

    /// <summary>Writes records to a file (LF line endings).</summary>
    /// <param name="path">Destination path.</param>
    /// <param name="records">Records to write.</param>
    public static void WriteFile(string path, IEnumerable<SpikeRecord> records)
    {
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false));
        Write(writer, records);
    }

    /// <summary>Writes records (header first, LF line endings).</summary>
    /// <param name="writer">Destination.</param>
    /// <param name="records">Records to write.</param>
    /// <exception cref="ArgumentException">An id, label or sequence contains a tab or line break, or a field is empty.</exception>
    public static void Write(TextWriter writer, IEnumerable<SpikeRecord> records)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(records);
        writer.Write(Header);
        writer.Write('\n');
        foreach (var r in records)
        {
            foreach (var (value, name) in new[] { (r.Id, "id"), (r.Label, "label"), (r.Sequence, "sequence") })
            {
                if (string.IsNullOrEmpty(value)) throw new ArgumentException($"Record '{r.Id}': empty {name}.", nameof(records));
                if (value.AsSpan().IndexOfAny('\t', '\n', '\r') >= 0) throw new ArgumentException($"Record '{r.Id}': {name} contains a tab or line break.", nameof(records));
            }
            writer.Write(r.Id);
            writer.Write('\t');
            writer.Write(r.Label);
            writer.Write('\t');
            writer.Write(r.Sequence);
            writer.Write('\n');
        }
    }

    /// <summary>Reads a TSV file.</summary>
    /// <param name="path">Source path.</param>
    public static IReadOnlyList<SpikeRecord> ReadFile(string path)
    {
        using var reader = new StreamReader(path, Encoding.UTF8);
        return Read(reader, path);
    }

    /// <summary>Reads records and validates them.</summary>
    /// <param name="reader">The TSV text.</param>
    /// <param name="sourceName">Name used in error messages.</param>
    /// <exception cref="InvalidDataException">Bad header, wrong field count, empty or duplicate id, missing label, bad residue.</exception>
    public static IReadOnlyList<SpikeRecord> Read(TextReader reader, string sourceName = "<tsv>")
    {
        ArgumentNullException.ThrowIfNull(reader);
        string? header = reader.ReadLine();
        if (header is null) throw new InvalidDataException($"{sourceName}: empty file; expected header '{Header.Replace("\t", "\\t")}'.");
        if (!string.Equals(header.Trim().TrimStart('\uFEFF'), Header, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"{sourceName}: line 1: expected header '{Header.Replace("\t", "\\t")}', found '{header.Replace("\t", "\\t")}'.");
        }
        var records = new List<SpikeRecord>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        string? line;
        int lineNo = 1;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNo++;
            if (line.Trim().Length == 0) continue;
            var f = line.Split('\t');
            string id = f[0].Trim();
            string ctx = $"{sourceName}: line {lineNo} (record '{id}')";
            if (f.Length != 3) throw new InvalidDataException($"{ctx}: expected 3 tab-separated fields (id, label, sequence), found {f.Length}.");
            if (id.Length == 0) throw new InvalidDataException($"{sourceName}: line {lineNo}: empty id.");
            if (seen.TryGetValue(id, out int first)) throw new InvalidDataException($"{ctx}: duplicate id (first on line {first}).");
            seen[id] = lineNo;
            string label = f[1].Trim();
            if (label.Length == 0) throw new InvalidDataException($"{ctx}: missing label.");
            string seq = f[2].Trim().ToUpperInvariant();
            if (seq.EndsWith('*')) seq = seq[..^1]; // a translated stop codon
            int star = seq.IndexOf('*');
            if (star >= 0) throw new InvalidDataException($"{ctx}: stop '*' inside the sequence at position {star + 1}; only one trailing '*' is tolerated.");
            AminoAcids.Validate(seq, ctx);
            records.Add(new SpikeRecord(id, label, seq));
        }
        return records;
    }
}
