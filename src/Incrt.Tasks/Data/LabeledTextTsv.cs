using System.Globalization;
using System.Text;

namespace Incrt.Tasks.Data;

/// <summary>One labelled text example, e.g. an SST-2 sentence and its sentiment.</summary>
/// <param name="Text">The text exactly as stored in the file (never empty).</param>
/// <param name="Label">The class label, <c>0</c> or <c>1</c>.</param>
public readonly record struct LabeledText(string Text, int Label);

/// <summary>
/// Reader for binary-labelled, tab-separated text files in the GLUE SST-2 layout: UTF-8, a header line
/// <c>sentence\tlabel</c>, then one example per line with exactly one tab, the text before it and the label
/// (<c>0</c> or <c>1</c>) after it. There is no quoting: quote characters are ordinary text.
/// </summary>
/// <remarks>
/// Validation is strict so that a truncated or wrongly converted file fails loudly instead of silently
/// changing results: any line with a tab count other than one, an empty text, a label other than
/// <c>0</c>/<c>1</c>, or a wrong header raises <see cref="DatasetFormatException"/> naming the file and the
/// 1-based line number. The data is only read, never copied.
/// </remarks>
public static class LabeledTextTsv
{
    /// <summary>The header line that every file must start with.</summary>
    public const string Header = "sentence\tlabel";

    /// <summary>Reads all examples of the file at <paramref name="path"/>, in file order.</summary>
    /// <param name="path">Path of the TSV file.</param>
    /// <returns>The examples (header excluded).</returns>
    /// <exception cref="FileNotFoundException">The file does not exist; the message names the full path.</exception>
    /// <exception cref="DatasetFormatException">A line is malformed; the message names the file, line and expectation.</exception>
    public static IReadOnlyList<LabeledText> Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new FileNotFoundException($"Labelled TSV file not found: {full}", full);
        using var reader = new StreamReader(full, new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: true);
        try
        {
            return Parse(reader, full);
        }
        catch (DecoderFallbackException e)
        {
            throw new DatasetFormatException(full, 0, $"the file is not valid UTF-8 ({e.Message}).");
        }
    }

    /// <summary>Parses examples from <paramref name="reader"/> (same format as <see cref="Read"/>).</summary>
    /// <param name="reader">The text source, positioned at the header line.</param>
    /// <param name="sourceName">Name used in error messages (normally the file path).</param>
    /// <returns>The examples (header excluded).</returns>
    /// <exception cref="DatasetFormatException">The header or a line is malformed.</exception>
    public static IReadOnlyList<LabeledText> Parse(TextReader reader, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var header = reader.ReadLine();
        if (header is null)
            throw new DatasetFormatException(sourceName, 1, $"the file is empty; expected the header '{Escape(Header)}'.");
        if (header != Header)
            throw new DatasetFormatException(sourceName, 1, $"expected the header '{Escape(Header)}' but found '{Escape(Shorten(header))}'.");

        var result = new List<LabeledText>();
        int lineNumber = 1;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            int tab = line.IndexOf('\t');
            int tabs = tab < 0 ? 0 : line.AsSpan().Count('\t');
            if (tabs != 1)
                throw new DatasetFormatException(sourceName, lineNumber,
                    $"expected exactly one tab (text<TAB>label) but found {tabs}: '{Escape(Shorten(line))}'.");
            var text = line[..tab];
            var labelText = line[(tab + 1)..];
            if (string.IsNullOrWhiteSpace(text))
                throw new DatasetFormatException(sourceName, lineNumber, "expected a non-empty text before the tab.");
            int label = labelText switch
            {
                "0" => 0,
                "1" => 1,
                _ => throw new DatasetFormatException(sourceName, lineNumber,
                    $"expected the label 0 or 1 after the tab but found '{Escape(Shorten(labelText))}'."),
            };
            result.Add(new LabeledText(text, label));
        }
        // A header with nothing under it is a mistake (a truncated export, the wrong file), not an empty score.
        if (result.Count == 0)
            throw new DatasetFormatException(sourceName, 1, $"the file has the header but no data rows; expected at least one 'text<TAB>label' line after '{Escape(Header)}'.");
        return result;
    }

    /// <summary>Counts the examples per label (index 0 and 1).</summary>
    /// <param name="examples">Examples to count.</param>
    /// <returns>A two-element array: number of label-0 and label-1 examples.</returns>
    public static int[] CountLabels(IEnumerable<LabeledText> examples)
    {
        var counts = new int[2];
        foreach (var e in examples) counts[e.Label]++;
        return counts;
    }

    private static string Shorten(string s) => s.Length <= 80 ? s : string.Concat(s.AsSpan(0, 77), "...");

    private static string Escape(string s) => s.Replace("\t", "\\t", StringComparison.Ordinal).Replace("\r", "\\r", StringComparison.Ordinal);
}
