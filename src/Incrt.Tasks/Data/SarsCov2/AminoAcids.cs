namespace Incrt.Tasks.Data.SarsCov2;

/// <summary>
/// The protein alphabet accepted by every reader in <c>Incrt.Tasks.Data.SarsCov2</c>: the 20 standard amino acids plus
/// <c>X</c> (unknown residue, as written by sequencers and NCBI for unresolved codons).
/// </summary>
/// <remarks>
/// Ambiguity codes (<c>B</c>, <c>Z</c>, <c>J</c>), the rare residues <c>U</c>/<c>O</c>, alignment gaps (<c>-</c>, <c>.</c>)
/// and interior stop codons (<c>*</c>) are rejected. Readers upper-case letters before validating, and the FASTA reader
/// strips a single trailing <c>*</c> (a translated stop codon) from a record.
/// </remarks>
public static class AminoAcids
{
    /// <summary>The 20 standard amino acids in alphabetical one-letter order.</summary>
    public const string Standard = "ACDEFGHIKLMNPQRSTVWY";

    /// <summary>The residue letter for an unknown amino acid.</summary>
    public const char Unknown = 'X';

    /// <summary>Returns <see langword="true"/> for one of the 20 standard upper-case amino-acid letters.</summary>
    /// <param name="residue">The residue letter.</param>
    public static bool IsStandard(char residue) => residue is >= 'A' and <= 'Y' && Standard.Contains(residue);

    /// <summary>Returns <see langword="true"/> for a standard amino acid or <see cref="Unknown"/> (upper case only).</summary>
    /// <param name="residue">The residue letter.</param>
    public static bool IsValid(char residue) => residue == Unknown || IsStandard(residue);

    /// <summary>Index of the first residue that <see cref="IsValid"/> rejects, or -1 when the whole sequence is valid.</summary>
    /// <param name="sequence">An upper-case protein sequence.</param>
    public static int IndexOfInvalid(string sequence)
    {
        ArgumentNullException.ThrowIfNull(sequence);
        for (int i = 0; i < sequence.Length; i++)
        {
            if (!IsValid(sequence[i])) return i;
        }
        return -1;
    }

    /// <summary>Throws <see cref="InvalidDataException"/> naming <paramref name="context"/> when the sequence is empty or holds a letter outside the alphabet.</summary>
    /// <param name="sequence">An upper-case protein sequence.</param>
    /// <param name="context">Where the sequence came from (record id and line), used in the message.</param>
    public static void Validate(string sequence, string context)
    {
        ArgumentNullException.ThrowIfNull(sequence);
        if (sequence.Length == 0) throw new InvalidDataException($"{context}: empty sequence.");
        int bad = IndexOfInvalid(sequence);
        if (bad >= 0)
        {
            throw new InvalidDataException(
                $"{context}: unknown residue '{sequence[bad]}' at position {bad + 1} (allowed: {Standard} and {Unknown}).");
        }
    }
}
