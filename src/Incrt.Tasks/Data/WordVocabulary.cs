using System.Globalization;
using System.Text;

namespace Incrt.Tasks.Data;

/// <summary>
/// A word-level vocabulary built from training texts, with the special tokens
/// <see cref="PadToken"/> = 0, <see cref="UnknownToken"/> = 1 and <see cref="ClsToken"/> = 2.
/// </summary>
/// <remarks>
/// <para>Tokenisation (<see cref="Tokenize"/>): lower-case (invariant culture), split on whitespace, then split
/// each piece into runs of word characters and runs of punctuation. An apostrophe or hyphen that is followed by a
/// letter or digit stays inside the word, so PTB-style tokens of SST-2 such as <c>n't</c>, <c>'s</c>,
/// <c>well-made</c> are kept whole, while <c>end.</c> becomes <c>end</c> <c>.</c> and <c>``</c>, <c>...</c>,
/// <c>--</c> stay single tokens. SST-2 is already tokenised with spaces, so on it this is mostly a plain split.</para>
/// <para>Ids after the specials are assigned by decreasing training frequency, ties broken by ordinal string
/// order, so the same texts always give the same vocabulary.</para>
/// <para>Word pieces (optional, <see cref="Build"/> with <c>pieceMinTypes</c>): besides whole words the vocabulary
/// can hold word-start pieces (<c>un</c>, <c>profession</c>) and continuation pieces written with a leading <c>##</c>
/// (<c>##ly</c>, <c>##ing</c>), chosen by how many distinct training words contain them. A word without its own id
/// is then split greedily, longest match first, into a word-start piece and continuation pieces (WordPiece
/// encoding), so <c>unflinchingly</c> becomes <c>unflinching ##ly</c> instead of <c>[UNK]</c>; only a word with a
/// character never seen in training stays <c>[UNK]</c>. Rare training words are split the same way, which is
/// what trains the pieces. A vocabulary without <c>##</c> tokens encodes exactly as before.</para>
/// <para>File format (<see cref="Save"/>/<see cref="Load"/>): UTF-8 text, line 1 <c>incrt-word-vocabulary v1</c>,
/// line 2 <c>count &lt;n&gt;</c>, then exactly n lines, one token per line in id order, starting with the three
/// specials. Tokens never contain whitespace.</para>
/// </remarks>
public sealed class WordVocabulary
{
    /// <summary>Id of the padding token <c>[PAD]</c>.</summary>
    public const int PadId = 0;
    /// <summary>Id of the unknown-word token <c>[UNK]</c>.</summary>
    public const int UnknownId = 1;
    /// <summary>Id of the classification token <c>[CLS]</c>.</summary>
    public const int ClsId = 2;
    /// <summary>Text of the padding token.</summary>
    public const string PadToken = "[PAD]";
    /// <summary>Text of the unknown-word token.</summary>
    public const string UnknownToken = "[UNK]";
    /// <summary>Text of the classification token.</summary>
    public const string ClsToken = "[CLS]";
    /// <summary>The first line of a saved vocabulary file.</summary>
    public const string FileHeader = "incrt-word-vocabulary v1";

    private static readonly string[] Specials = [PadToken, UnknownToken, ClsToken];

    /// <summary>Prefix of a continuation piece (a piece that does not start a word).</summary>
    public const string ContinuationPrefix = "##";
    /// <summary>Longest piece (in characters, without <see cref="ContinuationPrefix"/>) that <see cref="Build"/> adds.</summary>
    public const int MaxPieceLength = 8;

    private readonly string[] _tokens;
    private readonly Dictionary<string, int> _ids;
    private readonly int _longestToken;

    private WordVocabulary(string[] tokens)
    {
        _tokens = tokens;
        _ids = new Dictionary<string, int>(tokens.Length, StringComparer.Ordinal);
        for (int i = 0; i < tokens.Length; i++) _ids.Add(tokens[i], i);
        HasPieces = tokens.Any(IsContinuationPiece);
        _longestToken = tokens.Max(t => t.Length);
    }

    /// <summary>Whether the vocabulary holds word pieces, so unknown words are split instead of mapped to [UNK].</summary>
    public bool HasPieces { get; }

    /// <summary>A <c>##</c> token holding a word character: <see cref="Tokenize"/> never produces one (a run of
    /// <c>#</c> is punctuation and is split from letters), so such a token can only be a continuation piece.</summary>
    private static bool IsContinuationPiece(string token) =>
        token.Length > ContinuationPrefix.Length && token.StartsWith(ContinuationPrefix, StringComparison.Ordinal) && token.Any(IsWordChar);

    /// <summary>Number of tokens including the three specials.</summary>
    public int Count => _tokens.Length;

    /// <summary>All tokens in id order (index = id).</summary>
    public IReadOnlyList<string> Tokens => _tokens;

    /// <summary>Builds a vocabulary from training texts.</summary>
    /// <param name="texts">Training texts (tokenised with <see cref="Tokenize"/>).</param>
    /// <param name="minFrequency">A word must occur at least this many times to get its own id (at least 1).</param>
    /// <param name="maxSize">Optional cap on the number of whole words (specials included); the most frequent are kept.</param>
    /// <param name="pieceMinTypes">Null (default): words only. Otherwise also add every word-start piece and every
    /// continuation piece of 2..<see cref="MaxPieceLength"/> characters found in at least this many distinct training
    /// words, and every single character (as both), so that any word of known characters can be split.</param>
    /// <returns>The vocabulary.</returns>
    public static WordVocabulary Build(IEnumerable<string> texts, int minFrequency = 1, int? maxSize = null, int? pieceMinTypes = null)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentOutOfRangeException.ThrowIfLessThan(minFrequency, 1);
        if (maxSize is int m) ArgumentOutOfRangeException.ThrowIfLessThan(m, Specials.Length, nameof(maxSize));
        if (pieceMinTypes is int p) ArgumentOutOfRangeException.ThrowIfLessThan(p, 1, nameof(pieceMinTypes));
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var text in texts)
            foreach (var token in Tokenize(text))
                counts[token] = counts.TryGetValue(token, out var c) ? c + 1 : 1;
        var words = counts.Where(kv => kv.Value >= minFrequency && Array.IndexOf(Specials, kv.Key) < 0)
            .OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => kv.Key);
        if (maxSize is int max) words = words.Take(max - Specials.Length);
        var kept = words.ToList();
        if (pieceMinTypes is int minTypes) kept.AddRange(Pieces(counts.Keys, minTypes, new HashSet<string>(kept, StringComparer.Ordinal)));
        return new WordVocabulary([.. Specials, .. kept]);
    }

    /// <summary>Word-start and continuation pieces found in at least <paramref name="minTypes"/> distinct words (all
    /// single characters regardless), most widespread first, ties in ordinal order; tokens in <paramref name="taken"/> are skipped.</summary>
    private static IEnumerable<string> Pieces(IEnumerable<string> wordTypes, int minTypes, HashSet<string> taken)
    {
        var start = new Dictionary<string, int>(StringComparer.Ordinal);
        var inner = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var w in wordTypes)
        {
            if (Array.IndexOf(Specials, w) >= 0) continue;
            // Count each piece once per word type: a piece is worth an id when many different words share it.
            var seenStart = new HashSet<string>(StringComparer.Ordinal);
            var seenInner = new HashSet<string>(StringComparer.Ordinal);
            for (int len = 1; len <= Math.Min(w.Length, MaxPieceLength); len++) seenStart.Add(w[..len]);
            for (int i = 1; i < w.Length; i++)
                for (int len = 1; len <= Math.Min(w.Length - i, MaxPieceLength); len++) seenInner.Add(ContinuationPrefix + w.Substring(i, len));
            foreach (var x in seenStart) start[x] = start.GetValueOrDefault(x) + 1;
            foreach (var x in seenInner) inner[x] = inner.GetValueOrDefault(x) + 1;
            // Single characters of a one-character word also get a continuation piece.
            foreach (var c in w) inner[ContinuationPrefix + c] = Math.Max(inner.GetValueOrDefault(ContinuationPrefix + c), 1);
        }
        IEnumerable<string> Select(Dictionary<string, int> counts, int prefixLength) => counts
            .Where(kv => (kv.Value >= minTypes || kv.Key.Length == prefixLength + 1) && !taken.Contains(kv.Key))
            .OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key);
        return Select(start, 0).Concat(Select(inner, ContinuationPrefix.Length)).ToList();
    }

    /// <summary>The ids of one token: its own id when known; otherwise, with pieces, its greedy longest-match split
    /// (a word-start piece, then <c>##</c> pieces); otherwise (or when a character has no piece) <see cref="UnknownId"/>.</summary>
    /// <param name="token">A token as produced by <see cref="Tokenize"/>.</param>
    /// <returns>One or more ids.</returns>
    public IReadOnlyList<int> IdsOf(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (_ids.TryGetValue(token, out var id)) return [id];
        if (!HasPieces) return [UnknownId];
        var ids = new List<int>();
        for (int i = 0; i < token.Length;)
        {
            string prefix = i == 0 ? "" : ContinuationPrefix;
            int found = -1, end = Math.Min(token.Length, i + _longestToken);
            for (int j = end; j > i && found < 0; j--)
                if (_ids.TryGetValue(prefix + token[i..j], out var pieceId)) { found = pieceId; ids.Add(pieceId); i = j; }
            if (found < 0) return [UnknownId];   // a character with no piece: the whole word is unknown (as WordPiece does)
        }
        return ids;
    }

    /// <summary>Splits a text into lower-case tokens (see the class remarks for the rules).</summary>
    /// <param name="text">Any text.</param>
    /// <returns>The tokens, in order; empty for an empty or blank text.</returns>
    public static List<string> Tokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = new List<string>();
        var lower = text.ToLowerInvariant();
        var sb = new StringBuilder();
        bool? inWord = null; // kind of the run in sb
        void Flush()
        {
            if (sb.Length > 0) tokens.Add(sb.ToString());
            sb.Clear();
            inWord = null;
        }
        for (int i = 0; i < lower.Length; i++)
        {
            char c = lower[i];
            if (char.IsWhiteSpace(c)) { Flush(); continue; }
            bool word = IsWordChar(c) ||
                        ((c == '\'' || c == '-') && i + 1 < lower.Length && IsWordChar(lower[i + 1]) && inWord != false);
            if (inWord.HasValue && inWord.Value != word) Flush();
            sb.Append(c);
            inWord = word;
        }
        Flush();
        return tokens;
    }

    private static bool IsWordChar(char c) =>
        char.IsLetterOrDigit(c) || CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.NonSpacingMark
            or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark;

    /// <summary>The id of <paramref name="token"/>, or <see cref="UnknownId"/> when it is not in the vocabulary.</summary>
    /// <param name="token">A token as produced by <see cref="Tokenize"/>.</param>
    /// <returns>The id.</returns>
    public int IdOf(string token) => _ids.TryGetValue(token, out var id) ? id : UnknownId;

    /// <summary>The token with the given id.</summary>
    /// <param name="id">An id in [0, <see cref="Count"/>).</param>
    /// <returns>The token text.</returns>
    public string TokenOf(int id) => _tokens[id];

    /// <summary>Whether <paramref name="token"/> has its own id.</summary>
    /// <param name="token">A token.</param>
    /// <returns><c>true</c> when known.</returns>
    public bool Contains(string token) => _ids.ContainsKey(token);

    /// <summary>Encodes a text into ids: optional <c>[CLS]</c> first, then the ids of each token (<see cref="IdsOf"/>: one id
    /// per known word; unknown words map to <c>[UNK]</c>, or to their pieces when the vocabulary has pieces), truncated to <paramref name="maxLength"/>.</summary>
    /// <param name="text">The text.</param>
    /// <param name="maxLength">Maximum number of ids returned, <c>[CLS]</c> included (at least 1).</param>
    /// <param name="addCls">Whether to prepend <see cref="ClsId"/>.</param>
    /// <returns>The ids; no padding is added.</returns>
    public int[] Encode(string text, int maxLength, bool addCls)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        var ids = new List<int>(maxLength);
        if (addCls) ids.Add(ClsId);
        foreach (var token in Tokenize(text))
        {
            if (ids.Count >= maxLength) break;
            foreach (var id in IdsOf(token)) { if (ids.Count < maxLength) ids.Add(id); }
        }
        return [.. ids];
    }

    /// <summary>Counts over the tokens of <paramref name="texts"/>: all tokens, tokens without their own id, and tokens
    /// that encode to <see cref="UnknownId"/> (the same as the second count unless the vocabulary has pieces).</summary>
    /// <param name="texts">Texts to tokenise.</param>
    /// <returns>The three counts.</returns>
    public (long Tokens, long NotInVocabulary, long Unknown) Coverage(IEnumerable<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        long tokens = 0, missing = 0, unknown = 0;
        foreach (var text in texts)
            foreach (var token in Tokenize(text))
            {
                tokens++;
                if (_ids.ContainsKey(token)) continue;
                missing++;
                if (IdsOf(token) is [UnknownId]) unknown++;
            }
        return (tokens, missing, unknown);
    }

    /// <summary>Writes the vocabulary to <paramref name="path"/> in the format described in the class remarks.</summary>
    /// <param name="path">Destination file (overwritten).</param>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false)) { NewLine = "\n" };
        writer.WriteLine(FileHeader);
        writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"count {_tokens.Length}"));
        foreach (var t in _tokens) writer.WriteLine(t);
    }

    /// <summary>Reads a vocabulary written by <see cref="Save"/>.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The vocabulary, with the same ids as when it was saved.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="DatasetFormatException">The file is corrupt (wrong header, count mismatch, bad or duplicate token, misplaced specials); the message names the line.</exception>
    public static WordVocabulary Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new FileNotFoundException($"Vocabulary file not found: {full}", full);
        string[] lines;
        try
        {
            lines = File.ReadAllLines(full, new UTF8Encoding(false, throwOnInvalidBytes: true));
        }
        catch (DecoderFallbackException e)
        {
            throw new DatasetFormatException(full, 0, $"the vocabulary file is not valid UTF-8 ({e.Message}).");
        }
        if (lines.Length == 0 || lines[0] != FileHeader)
            throw new DatasetFormatException(full, 1, $"expected the header '{FileHeader}'; this is not a saved vocabulary.");
        if (lines.Length < 2 || !lines[1].StartsWith("count ", StringComparison.Ordinal) ||
            !int.TryParse(lines[1].AsSpan(6), NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count < Specials.Length)
            throw new DatasetFormatException(full, 2, $"expected 'count <n>' with n >= {Specials.Length}.");
        if (lines.Length - 2 != count)
            throw new DatasetFormatException(full, 0, $"the header announces {count} tokens but the file holds {lines.Length - 2} token lines (truncated or edited file).");
        var tokens = new string[count];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < count; i++)
        {
            var t = lines[i + 2];
            int lineNumber = i + 3;
            if (t.Length == 0 || t.Any(char.IsWhiteSpace))
                throw new DatasetFormatException(full, lineNumber, "expected a non-empty token without whitespace.");
            if (i < Specials.Length && t != Specials[i])
                throw new DatasetFormatException(full, lineNumber, $"expected the special token {Specials[i]} for id {i}.");
            if (!seen.Add(t))
                throw new DatasetFormatException(full, lineNumber, $"duplicate token '{t}'.");
            tokens[i] = t;
        }
        return new WordVocabulary(tokens);
    }
}
