using System.Globalization;
using SkiaSharp;

namespace Incrt.Samples.Common;

/// <summary>Draws a confusion matrix as a PNG grid (SkiaSharp): rows = true class, columns = predicted class, each cell
/// shaded by its share of the row (recall on the diagonal) and labelled with its count.</summary>
public static class ConfusionPlot
{
    /// <summary>Writes the confusion matrix of <paramref name="metrics"/> to <paramref name="path"/>.</summary>
    /// <param name="path">Destination PNG (folder created when missing).</param>
    /// <param name="metrics">Metrics holding the labels and the [true][predicted] counts.</param>
    /// <param name="title">Title line (accuracy and macro-F1 are appended).</param>
    public static void Save(string path, ClassificationMetrics metrics, string title)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        var inv = CultureInfo.InvariantCulture;
        var labels = metrics.Labels;
        int n = labels.Count;
        using var typeface = SKTypeface.Default;
        using var font = new SKFont(typeface, 14);
        using var small = new SKFont(typeface, 12);
        float labelWidth = labels.Max(l => font.MeasureText(l)) + 16;
        float cell = Math.Clamp(480f / Math.Max(1, n), 36, 80);
        float left = labelWidth + 30, top = labelWidth + 60;
        int width = (int)Math.Ceiling(left + n * cell + 20), height = (int)Math.Ceiling(top + n * cell + 20);
        width = Math.Max(width, 520);

        using var bitmap = new SKBitmap(width, height);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        using var white = new SKPaint { Color = SKColors.White, IsAntialias = true };
        using var grid = new SKPaint { Color = SKColors.LightGray, Style = SKPaintStyle.Stroke, StrokeWidth = 1 };
        using var fill = new SKPaint { Style = SKPaintStyle.Fill };

        canvas.DrawText(string.Create(inv, $"{title}: accuracy {metrics.Accuracy:F3}, macro-F1 {metrics.MacroF1:F3}"), 10, 22, SKTextAlign.Left, font, ink);
        canvas.DrawText("predicted →", left + n * cell / 2, 44, SKTextAlign.Center, small, ink);
        canvas.Save();
        canvas.RotateDegrees(-90);
        canvas.DrawText("true →", -(top + n * cell / 2), 16, SKTextAlign.Center, small, ink);
        canvas.Restore();

        for (int t = 0; t < n; t++)
        {
            long rowSum = metrics.Confusion[t].Sum();
            canvas.DrawText(labels[t], left - 8, top + t * cell + cell / 2 + 5, SKTextAlign.Right, font, ink);
            for (int p = 0; p < n; p++)
            {
                long count = metrics.Confusion[t][p];
                double share = rowSum == 0 ? 0 : count / (double)rowSum;
                // White → dark blue by row share.
                byte r = (byte)(255 - 225 * share), g = (byte)(255 - 175 * share), b = (byte)(255 - 75 * share);
                fill.Color = new SKColor(r, g, b);
                var rect = SKRect.Create(left + p * cell, top + t * cell, cell, cell);
                canvas.DrawRect(rect, fill);
                canvas.DrawRect(rect, grid);
                canvas.DrawText(count.ToString(inv), rect.MidX, rect.MidY + 5, SKTextAlign.Center, font, share > 0.55 ? white : ink);
            }
        }
        for (int p = 0; p < n; p++)
        {
            // Column labels written upwards above the grid.
            canvas.Save();
            canvas.Translate(left + p * cell + cell / 2 + 5, top - 8);
            canvas.RotateDegrees(-90);
            canvas.DrawText(labels[p], 0, 0, SKTextAlign.Left, font, ink);
            canvas.Restore();
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        using var file = File.Create(path);
        data.SaveTo(file);
    }
}
