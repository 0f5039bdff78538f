using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Incrt.Tasks.Data.SarsCov2;

/// <summary>The kind of an amino-acid change in the spike protein.</summary>
public enum SpikeMutationKind
{
    /// <summary>One residue replaced by another, e.g. <c>N501Y</c>.</summary>
    Substitution,

    /// <summary>One residue deleted, e.g. <c>H69-</c> (del69-70 is written as two rows, <c>H69-</c> and <c>V70-</c>).</summary>
    Deletion,

    /// <summary>Residues inserted after a position, e.g. <c>ins214EPE</c> (EPE inserted after residue 214).</summary>
    Insertion,
}

/// <summary>
/// One amino-acid change on Wuhan-Hu-1 numbering, in the notation of <c>voc_spike_mutations.tsv</c>:
/// <c>N501Y</c> (substitution), <c>H69-</c> (deletion of one residue), <c>ins214EPE</c> (insertion after 214).
/// </summary>
/// <param name="Kind">Substitution, deletion or insertion.</param>
/// <param name="Position">1-based reference position; for an insertion, the residue after which residues are inserted.</param>
/// <param name="From">The reference residue; <see langword="null"/> for an insertion.</param>
/// <param name="To">The new residue (substitution), the inserted residues (insertion) or empty (deletion).</param>
public sealed partial record SpikeMutation(SpikeMutationKind Kind, int Position, char? From, string To)
{
    /// <summary>The mutation in table notation (<c>N501Y</c>, <c>H69-</c>, <c>ins214EPE</c>).</summary>
    public string Name => Kind switch
    {
        SpikeMutationKind.Substitution => $"{From}{Position.ToString(CultureInfo.InvariantCulture)}{To}",
        SpikeMutationKind.Deletion => $"{From}{Position.ToString(CultureInfo.InvariantCulture)}-",
        _ => $"ins{Position.ToString(CultureInfo.InvariantCulture)}{To}",
    };

    /// <summary>
    /// The site this mutation occupies: substitutions and deletions at the same position share a site (a child
    /// lineage's allele replaces its parent's there); an insertion has its own site after <see cref="Position"/>.
    /// </summary>
    public (int Position, bool IsInsertion) Site => (Position, Kind == SpikeMutationKind.Insertion);

    /// <inheritdoc />
    public override string ToString() => Name;

    /// <summary>Parses <c>N501Y</c>, <c>H69-</c> or <c>ins214EPE</c>; returns <see langword="false"/> for anything else (e.g. <c>syn:C25000T</c>).</summary>
    /// <param name="text">The mutation text.</param>
    /// <param name="mutation">The parsed mutation.</param>
    public static bool TryParse(string? text, out SpikeMutation mutation)
    {
        mutation = null!;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var m = Pattern().Match(text.Trim());
        if (!m.Success) return false;
        if (m.Groups["ins"].Success)
        {
            if (!m.Groups["ins"].Value.All(AminoAcids.IsStandard)) return false;
            mutation = new SpikeMutation(SpikeMutationKind.Insertion, int.Parse(m.Groups["ipos"].Value, CultureInfo.InvariantCulture), null, m.Groups["ins"].Value);
            return true;
        }
        char from = m.Groups["from"].Value[0];
        int pos = int.Parse(m.Groups["pos"].Value, CultureInfo.InvariantCulture);
        string to = m.Groups["to"].Value;
        if (!AminoAcids.IsStandard(from) || (to != "-" && !AminoAcids.IsStandard(to[0]))) return false;
        mutation = to == "-"
            ? new SpikeMutation(SpikeMutationKind.Deletion, pos, from, "")
            : new SpikeMutation(SpikeMutationKind.Substitution, pos, from, to);
        return pos >= 1;
    }

    /// <summary>Parses a mutation, throwing <see cref="FormatException"/> when the text is not an amino-acid change.</summary>
    /// <param name="text">The mutation text.</param>
    public static SpikeMutation Parse(string text) =>
        TryParse(text, out var m) ? m : throw new FormatException($"'{text}' is not a spike amino-acid mutation (expected e.g. N501Y, H69- or ins214EPE).");

    /// <summary>
    /// Applies mutations to a reference and returns the mutated protein. Each substitution's and deletion's
    /// <see cref="From"/> residue must equal the reference residue at its position.
    /// </summary>
    /// <param name="reference">The reference spike.</param>
    /// <param name="mutations">Mutations with distinct <see cref="Site"/>s.</param>
    /// <exception cref="InvalidDataException">A "from" residue does not match the reference, a position lies outside it, or two mutations share a site.</exception>
    public static string Apply(SpikeReference reference, IEnumerable<SpikeMutation> mutations)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(mutations);
        int n = reference.Length;
        var site = new SpikeMutation?[n + 1];
        var ins = new string?[n + 1];
        foreach (var mu in mutations)
        {
            if (mu.Position < (mu.Kind == SpikeMutationKind.Insertion ? 0 : 1) || mu.Position > n)
            {
                throw new InvalidDataException($"Mutation {mu.Name}: position {mu.Position} is outside the reference (1..{n}).");
            }
            if (mu.Kind == SpikeMutationKind.Insertion)
            {
                if (ins[mu.Position] is not null) throw new InvalidDataException($"Two insertions after position {mu.Position}.");
                ins[mu.Position] = mu.To;
                continue;
            }
            char refResidue = reference.Sequence[mu.Position - 1];
            if (mu.From != refResidue)
            {
                throw new InvalidDataException(
                    $"Mutation {mu.Name}: expects reference residue '{mu.From}' at position {mu.Position}, but {reference.Id} has '{refResidue}'.");
            }
            if (site[mu.Position] is { } other) throw new InvalidDataException($"Mutations {other.Name} and {mu.Name} occupy the same position.");
            site[mu.Position] = mu;
        }
        var sb = new StringBuilder(n + 16);
        if (ins[0] is { } lead) sb.Append(lead);
        for (int p = 1; p <= n; p++)
        {
            var mu = site[p];
            if (mu is null) sb.Append(reference.Sequence[p - 1]);
            else if (mu.Kind == SpikeMutationKind.Substitution) sb.Append(mu.To);
            if (ins[p] is { } s) sb.Append(s);
        }
        return sb.ToString();
    }

    [GeneratedRegex(@"^(?:ins(?<ipos>\d+)(?<ins>[A-Z]+)|(?<from>[A-Z])(?<pos>\d+)(?<to>[A-Z]|-))$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
