using System.Globalization;
using System.Text;
using Incrt.Training;

namespace Incrt.Samples.Common;

/// <summary>Per-class and macro metrics of a confusion matrix, with a plain-text rendering.</summary>
public sealed class ClassificationMetrics
{
    /// <summary>One class's scores (NaN when undefined: nothing predicted, or class absent).</summary>
    public sealed record ClassScore(string Label, long Support, double Precision, double Recall, double F1);

    private ClassificationMetrics(IReadOnlyList<string> labels, long[][] confusion, IReadOnlyList<ClassScore> classes)
    {
        Labels = labels;
        Confusion = confusion;
        Classes = classes;
        long total = confusion.Sum(r => r.Sum());
        long correct = Enumerable.Range(0, labels.Count).Sum(i => confusion[i][i]);
        Count = total;
        Accuracy = total == 0 ? double.NaN : correct / (double)total;
        var present = classes.Where(c => c.Support > 0).ToList();
        // Macro-F1 over the classes that occur; an undefined F1 (no prediction of a present class) counts as 0.
        MacroF1 = present.Count == 0 ? double.NaN : present.Average(c => double.IsNaN(c.F1) ? 0 : c.F1);
    }

    /// <summary>Class labels, in class-index order.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>Counts [true class][predicted class].</summary>
    public long[][] Confusion { get; }

    /// <summary>Per-class scores.</summary>
    public IReadOnlyList<ClassScore> Classes { get; }

    /// <summary>Examples counted.</summary>
    public long Count { get; }

    /// <summary>Fraction correct.</summary>
    public double Accuracy { get; }

    /// <summary>Unweighted mean F1 over the classes present (undefined F1 counts as 0).</summary>
    public double MacroF1 { get; }

    /// <summary>Computes the metrics of a [true, predicted] confusion matrix.</summary>
    /// <param name="labels">Class labels (length = matrix size).</param>
    /// <param name="confusion">Square matrix of counts [true, predicted].</param>
    public static ClassificationMetrics From(IReadOnlyList<string> labels, long[,] confusion)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(confusion);
        int n = labels.Count;
        if (confusion.GetLength(0) != n || confusion.GetLength(1) != n)
            throw new ArgumentException($"Confusion matrix is {confusion.GetLength(0)}x{confusion.GetLength(1)} but there are {n} labels.", nameof(confusion));
        var rows = Enumerable.Range(0, n).Select(t => Enumerable.Range(0, n).Select(p => confusion[t, p]).ToArray()).ToArray();
        var scores = new List<ClassScore>(n);
        for (int c = 0; c < n; c++)
        {
            long support = rows[c].Sum();
            double precision = EvaluationResult.Precision(confusion, c);
            double recall = EvaluationResult.Recall(confusion, c);
            double f1 = double.IsNaN(precision) || double.IsNaN(recall) ? double.NaN
                : precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            scores.Add(new ClassScore(labels[c], support, precision, recall, f1));
        }
        return new ClassificationMetrics(labels, rows, scores);
    }

    /// <summary>A per-class table (precision, recall, F1, support) followed by the confusion matrix.</summary>
    public string ToText()
    {
        var inv = CultureInfo.InvariantCulture;
        int w = Math.Max(9, Labels.Max(l => l.Length) + 1);
        var sb = new StringBuilder();
        sb.Append("class".PadRight(w)).AppendLine("precision  recall     F1  support");
        foreach (var c in Classes)
        {
            sb.Append(c.Label.PadRight(w))
              .Append(F(c.Precision).PadLeft(9)).Append(F(c.Recall).PadLeft(8)).Append(F(c.F1).PadLeft(7))
              .AppendLine(c.Support.ToString(inv).PadLeft(9));
        }
        sb.Append("accuracy ".PadRight(w)).Append(F(Accuracy)).Append("   macro-F1 ").AppendLine(F(MacroF1));
        sb.AppendLine("confusion matrix (rows = true, columns = predicted):");
        int cw = Math.Max(6, Labels.Max(l => l.Length) + 1);
        sb.Append(new string(' ', w));
        foreach (var l in Labels) sb.Append(l.PadLeft(cw));
        sb.AppendLine();
        for (int t = 0; t < Labels.Count; t++)
        {
            sb.Append(Labels[t].PadRight(w));
            foreach (var v in Confusion[t]) sb.Append(v.ToString(inv).PadLeft(cw));
            sb.AppendLine();
        }
        return sb.ToString();

        static string F(double v) => double.IsNaN(v) ? "n/a" : v.ToString("F3", CultureInfo.InvariantCulture);
    }
}
