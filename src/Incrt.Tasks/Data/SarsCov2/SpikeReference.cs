namespace Incrt.Tasks.Data.SarsCov2;

/// <summary>
/// The Wuhan-Hu-1 spike protein (RefSeq YP_009724390.1, 1,273 aa) that every mutation in
/// <c>voc_spike_mutations.tsv</c> is numbered against.
/// </summary>
public sealed class SpikeReference
{
    /// <summary>Length of the Wuhan-Hu-1 spike protein in residues.</summary>
    public const int WuhanHu1Length = 1273;

    /// <summary>Creates a reference from an id and a validated sequence.</summary>
    /// <param name="id">Record id, e.g. <c>YP_009724390.1</c>.</param>
    /// <param name="sequence">Upper-case residues (20 standard amino acids; <c>X</c> is rejected in a reference).</param>
    /// <exception cref="InvalidDataException">The sequence is empty or holds a non-standard residue.</exception>
    public SpikeReference(string id, string sequence)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(sequence);
        AminoAcids.Validate(sequence, $"reference '{id}'");
        int x = sequence.IndexOf(AminoAcids.Unknown);
        if (x >= 0) throw new InvalidDataException($"reference '{id}': unknown residue 'X' at position {x + 1}; a reference must be fully resolved.");
        Id = id;
        Sequence = sequence;
    }

    /// <summary>The record id.</summary>
    public string Id { get; }

    /// <summary>The residues, position 1 at index 0.</summary>
    public string Sequence { get; }

    /// <summary>Number of residues.</summary>
    public int Length => Sequence.Length;

    /// <summary>The residue at a 1-based position.</summary>
    /// <param name="position">1-based position (Wuhan-Hu-1 numbering).</param>
    public char ResidueAt(int position)
    {
        if (position < 1 || position > Sequence.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(position), position, $"Position must be in 1..{Sequence.Length}.");
        }
        return Sequence[position - 1];
    }

    /// <summary>Loads the reference from a FASTA file that must hold exactly one record.</summary>
    /// <param name="path">Path of e.g. <c>reference_spike.fasta</c>.</param>
    /// <exception cref="InvalidDataException">The file is malformed or holds more or fewer than one record.</exception>
    public static SpikeReference Load(string path)
    {
        var records = ProteinFasta.ReadFile(path);
        if (records.Count != 1) throw new InvalidDataException($"{path}: expected exactly one reference record, found {records.Count}.");
        return new SpikeReference(records[0].Id, records[0].Sequence);
    }
}
