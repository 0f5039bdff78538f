using System.Text;

namespace Incrt.Tasks.Data.SarsCov2;

/// <summary>One record of a protein FASTA file.</summary>
/// <param name="Id">The first whitespace-delimited token after <c>&gt;</c>.</param>
/// <param name="Description">The rest of the header line after the id (may be empty).</param>
/// <param name="Sequence">The upper-cased, validated residues, with a trailing stop <c>*</c> removed.</param>
/// <param name="Line">1-based line number of the header line.</param>
public sealed record FastaRecord(string Id, string Description, string Sequence, int Line);

/// <summary>
/// Reader for multi-record protein FASTA.
/// </summary>
/// <remarks>
/// Rules: blank lines are ignored; lines starting with <c>;</c> are comments; sequence lines may be wrapped at any width;
/// residues are upper-cased and must be in the <see cref="AminoAcids"/> alphabet (20 standard letters plus <c>X</c>);
/// one trailing <c>*</c> (translated stop codon) at the very end of a record is stripped, any other <c>*</c> is an error.
/// Every problem (sequence before the first header, missing id, empty record, duplicate id, unknown residue) raises
/// <see cref="InvalidDataException"/> whose message names the source, the line and the record id.
/// </remarks>
public static class ProteinFasta
{
    /// <summary>Reads every record of a FASTA file.</summary>
    /// <param name="path">Path of the FASTA file.</param>
    public static IReadOnlyList<FastaRecord> ReadFile(string path)
    {
        using var reader = new StreamReader(path, Encoding.UTF8);
        return Read(reader, path);
    }

    /// <summary>Reads every record from a text reader.</summary>
    /// <param name="reader">The FASTA text.</param>
    /// <param name="sourceName">Name used in error messages (for example the file path).</param>
    public static IReadOnlyList<FastaRecord> Read(TextReader reader, string sourceName = "<fasta>")
    {
        ArgumentNullException.ThrowIfNull(reader);
        var records = new List<FastaRecord>();
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        string? id = null, description = null;
        int headerLine = 0, lineNo = 0;
        var seq = new StringBuilder();

        void Flush()
        {
            if (id is null) return;
            string s = seq.ToString();
            if (s.EndsWith('*')) s = s[..^1];
            string ctx = $"{sourceName}: record '{id}' (line {headerLine})";
            if (s.Length == 0) throw new InvalidDataException($"{ctx}: empty record (no residues).");
            int star = s.IndexOf('*');
            if (star >= 0)
            {
                throw new InvalidDataException($"{ctx}: stop '*' inside the sequence at position {star + 1}; only one trailing '*' is tolerated.");
            }
            AminoAcids.Validate(s, ctx);
            records.Add(new FastaRecord(id, description ?? "", s, headerLine));
            seq.Clear();
        }

        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNo++;
            string t = line.Trim();
            if (t.Length == 0 || t[0] == ';') continue;
            if (t[0] == '>')
            {
                Flush();
                string header = t[1..].Trim();
                int ws = header.IndexOfAny([' ', '\t']);
                id = ws < 0 ? header : header[..ws];
                description = ws < 0 ? "" : header[(ws + 1)..].Trim();
                headerLine = lineNo;
                if (id.Length == 0) throw new InvalidDataException($"{sourceName}: line {lineNo}: header without a record id.");
                if (ids.TryGetValue(id, out int first))
                {
                    throw new InvalidDataException($"{sourceName}: line {lineNo}: duplicate record id '{id}' (first seen on line {first}).");
                }
                ids[id] = lineNo;
                continue;
            }
            if (id is null) throw new InvalidDataException($"{sourceName}: line {lineNo}: sequence data before the first '>' header.");
            foreach (char c in t)
            {
                if (char.IsWhiteSpace(c)) continue;
                char u = char.ToUpperInvariant(c);
                if (u != '*' && !AminoAcids.IsValid(u))
                {
                    throw new InvalidDataException(
                        $"{sourceName}: record '{id}' (line {headerLine}): unknown residue '{c}' on line {lineNo} (allowed: {AminoAcids.Standard}, {AminoAcids.Unknown} and one trailing '*').");
                }
                seq.Append(u);
            }
        }
        Flush();
        return records;
    }

    /// <summary>Writes records as FASTA with 60-residue lines.</summary>
    /// <param name="writer">Destination.</param>
    /// <param name="records">Pairs of id and sequence.</param>
    public static void Write(TextWriter writer, IEnumerable<(string Id, string Sequence)> records)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(records);
        foreach (var (rid, s) in records)
        {
            writer.Write('>');
            writer.Write(rid);
            writer.Write('\n');
            for (int i = 0; i < s.Length; i += 60)
            {
                writer.Write(s.AsSpan(i, Math.Min(60, s.Length - i)));
                writer.Write('\n');
            }
        }
    }
}
