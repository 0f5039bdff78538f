using System.Globalization;
using System.Text;

namespace Incrt.Tasks.Data.SarsCov2;

/// <summary>
/// Amino-acid k-mer tokenizer: a sequence becomes the k-mers starting at positions 0, s, 2s, … (k = <see cref="K"/>,
/// s = <see cref="Stride"/>) that fit entirely in the sequence; trailing residues that do not fill a k-mer are dropped.
/// </summary>
/// <remarks>
/// <para>Ids: <c>[PAD]</c> = 0, <c>[UNK]</c> = 1, <c>[CLS]</c> = 2, then every k-mer seen in the training sequences in
/// ordinal order (so the vocabulary does not depend on the order of the training data).</para>
/// <para>A k-mer that contains the unknown residue <c>X</c> is never added to the vocabulary and always encodes as
/// <c>[UNK]</c>, as does any k-mer not seen in training.</para>
/// <para>Saved vocabulary format (UTF-8 text): a first line <c>#incrt-kmer-vocabulary k=K stride=S</c>, then one token per
/// line, the line order being the id order (starting with the three special tokens).</para>
/// </remarks>
public sealed class KmerTokenizer
{
    /// <summary>Id of the padding token <c>[PAD]</c>.</summary>
    public const int PadId = 0;

    /// <summary>Id of the unknown token <c>[UNK]</c>.</summary>
    public const int UnkId = 1;

    /// <summary>Id of the classification token <c>[CLS]</c>.</summary>
    public const int ClsId = 2;

    /// <summary>The padding token.</summary>
    public const string PadToken = "[PAD]";

    /// <summary>The unknown token.</summary>
    public const string UnkToken = "[UNK]";

    /// <summary>The classification token.</summary>
    public const string ClsToken = "[CLS]";

    private const string FileMagic = "#incrt-kmer-vocabulary";

    private readonly string[] _tokens;
    private readonly Dictionary<string, int> _ids;

    private KmerTokenizer(int k, int stride, string[] tokens)
    {
        K = k;
        Stride = stride;
        _tokens = tokens;
        _ids = new Dictionary<string, int>(tokens.Length, StringComparer.Ordinal);
        for (int i = 0; i < tokens.Length; i++)
        {
            if (!_ids.TryAdd(tokens[i], i)) throw new InvalidDataException($"Duplicate vocabulary token '{tokens[i]}' (id {i}).");
        }
    }

    /// <summary>k-mer length.</summary>
    public int K { get; }

    /// <summary>Step between the starts of consecutive k-mers.</summary>
    public int Stride { get; }

    /// <summary>Tokens in id order (special tokens first).</summary>
    public IReadOnlyList<string> Vocabulary => _tokens;

    /// <summary>Number of tokens, special tokens included.</summary>
    public int VocabularySize => _tokens.Length;

    /// <summary>Builds the vocabulary from training sequences.</summary>
    /// <param name="trainingSequences">Upper-case protein sequences (training split only).</param>
    /// <param name="k">k-mer length (1..8).</param>
    /// <param name="stride">Step between k-mer starts (1..k is typical; any value ≥ 1 is allowed).</param>
    public static KmerTokenizer Fit(IEnumerable<string> trainingSequences, int k = 3, int stride = 1)
    {
        ArgumentNullException.ThrowIfNull(trainingSequences);
        CheckShape(k, stride);
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var s in trainingSequences)
        {
            foreach (var kmer in Split(s, k, stride))
            {
                if (kmer.IndexOf(AminoAcids.Unknown) < 0) set.Add(kmer);
            }
        }
        var tokens = new List<string> { PadToken, UnkToken, ClsToken };
        tokens.AddRange(set.Order(StringComparer.Ordinal));
        return new KmerTokenizer(k, stride, [.. tokens]);
    }

    /// <summary>The k-mers of a sequence (upper-cased), in order.</summary>
    /// <param name="sequence">Protein sequence.</param>
    public IReadOnlyList<string> Split(string sequence) => Split(sequence, K, Stride).ToList();

    /// <summary>The id of a token or k-mer; <see cref="UnkId"/> when it is unknown or contains <c>X</c>.</summary>
    /// <param name="token">A k-mer or special token.</param>
    public int TokenToId(string token) =>
        token.IndexOf(AminoAcids.Unknown) < 0 && _ids.TryGetValue(token, out int id) ? id : UnkId;

    /// <summary>The token of an id.</summary>
    /// <param name="id">Token id in 0..<see cref="VocabularySize"/>-1.</param>
    public string IdToToken(int id) => _tokens[id];

    /// <summary>
    /// Encodes a sequence into exactly <paramref name="maxLength"/> ids: <c>[CLS]</c> (when <paramref name="addCls"/>),
    /// then the k-mer ids, truncated to fit, then <c>[PAD]</c> up to <paramref name="maxLength"/>.
    /// </summary>
    /// <param name="sequence">Protein sequence.</param>
    /// <param name="maxLength">Output length (≥ 1).</param>
    /// <param name="addCls">Prepend <c>[CLS]</c>.</param>
    public int[] Encode(string sequence, int maxLength, bool addCls = true)
    {
        ArgumentNullException.ThrowIfNull(sequence);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        var ids = new int[maxLength]; // zero = PadId
        int n = 0;
        if (addCls) ids[n++] = ClsId;
        foreach (var kmer in Split(sequence, K, Stride))
        {
            if (n == maxLength) break;
            ids[n++] = TokenToId(kmer);
        }
        return ids;
    }

    /// <summary>Number of k-mers a sequence of this length yields (before truncation).</summary>
    /// <param name="sequenceLength">Residues.</param>
    public int KmerCount(int sequenceLength) => sequenceLength < K ? 0 : (sequenceLength - K) / Stride + 1;

    /// <summary>Saves k, stride and the vocabulary to a file.</summary>
    /// <param name="path">Destination path.</param>
    public void Save(string path)
    {
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false));
        Save(writer);
    }

    /// <summary>Writes k, stride and the vocabulary.</summary>
    /// <param name="writer">Destination.</param>
    public void Save(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(string.Create(CultureInfo.InvariantCulture, $"{FileMagic} k={K} stride={Stride}\n"));
        foreach (var t in _tokens)
        {
            writer.Write(t);
            writer.Write('\n');
        }
    }

    /// <summary>Loads a tokenizer saved with <see cref="Save(string)"/>.</summary>
    /// <param name="path">Source path.</param>
    public static KmerTokenizer Load(string path)
    {
        using var reader = new StreamReader(path, Encoding.UTF8);
        return Load(reader);
    }

    /// <summary>Reads a tokenizer written with <see cref="Save(TextWriter)"/>.</summary>
    /// <param name="reader">Source.</param>
    /// <exception cref="InvalidDataException">Bad header, special tokens not at ids 0–2, a k-mer of the wrong length or alphabet, or a duplicate token.</exception>
    public static KmerTokenizer Load(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        string? header = reader.ReadLine();
        var parts = header?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts is not { Length: 3 } || parts[0] != FileMagic || !parts[1].StartsWith("k=", StringComparison.Ordinal) ||
            !parts[2].StartsWith("stride=", StringComparison.Ordinal) ||
            !int.TryParse(parts[1].AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out int k) ||
            !int.TryParse(parts[2].AsSpan(7), NumberStyles.None, CultureInfo.InvariantCulture, out int stride))
        {
            throw new InvalidDataException($"line 1: expected '{FileMagic} k=<k> stride=<s>', found '{header}'.");
        }
        try
        {
            CheckShape(k, stride);
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new InvalidDataException($"line 1: {e.Message}", e);
        }
        var tokens = new List<string>();
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            if (line.Length == 0) continue;
            tokens.Add(line);
        }
        string[] specials = [PadToken, UnkToken, ClsToken];
        for (int i = 0; i < specials.Length; i++)
        {
            if (tokens.Count <= i || tokens[i] != specials[i]) throw new InvalidDataException($"Token id {i} must be {specials[i]}.");
        }
        for (int i = specials.Length; i < tokens.Count; i++)
        {
            if (tokens[i].Length != k || !tokens[i].All(AminoAcids.IsStandard))
            {
                throw new InvalidDataException($"Token id {i} '{tokens[i]}' is not a {k}-mer of standard amino acids.");
            }
        }
        return new KmerTokenizer(k, stride, [.. tokens]);
    }

    private static void CheckShape(int k, int stride)
    {
        if (k < 1 || k > 8) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be in 1..8.");
        if (stride < 1) throw new ArgumentOutOfRangeException(nameof(stride), stride, "stride must be at least 1.");
    }

    private static IEnumerable<string> Split(string sequence, int k, int stride)
    {
        ArgumentNullException.ThrowIfNull(sequence);
        string s = sequence.ToUpperInvariant();
        for (int i = 0; i + k <= s.Length; i += stride) yield return s.Substring(i, k);
    }
}
