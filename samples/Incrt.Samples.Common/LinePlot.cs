namespace Incrt.Samples.Common;

/// <summary>Writes simple multi-panel line charts as PNG (ScottPlot), one panel per series group.</summary>
public static class LinePlot
{
    /// <summary>One curve: a legend label and its points; <paramref name="MarkersOnly"/> draws unconnected markers (a scatter).</summary>
    public sealed record Series(string Label, IReadOnlyList<double> X, IReadOnlyList<double> Y, bool MarkersOnly = false);

    /// <summary>One panel: a title, axis labels and its curves.</summary>
    public sealed record Panel(string Title, string XLabel, string YLabel, IReadOnlyList<Series> Series);

    /// <summary>Renders the panels stacked vertically into one PNG at <paramref name="path"/>.</summary>
    public static void Save(string path, IReadOnlyList<Panel> panels, int width = 900, int panelHeight = 300)
    {
        using var canvasBitmap = new SkiaSharp.SKBitmap(width, panelHeight * panels.Count);
        using var canvas = new SkiaSharp.SKCanvas(canvasBitmap);
        canvas.Clear(SkiaSharp.SKColors.White);
        for (int i = 0; i < panels.Count; i++)
        {
            var plot = new ScottPlot.Plot();
            var p = panels[i];
            plot.Title(p.Title);
            plot.XLabel(p.XLabel);
            plot.YLabel(p.YLabel);
            foreach (var s in p.Series)
            {
                var finite = s.X.Zip(s.Y).Where(v => double.IsFinite(v.First) && double.IsFinite(v.Second)).ToArray();
                if (finite.Length == 0) continue;
                var line = plot.Add.Scatter(finite.Select(v => v.First).ToArray(), finite.Select(v => v.Second).ToArray());
                line.LegendText = s.Label;
                line.MarkerSize = s.MarkersOnly ? 7 : finite.Length > 60 ? 0 : 4;
                if (s.MarkersOnly) line.LineWidth = 0;
            }
            if (p.Series.Count > 1) plot.ShowLegend();
            using var panel = SkiaSharp.SKBitmap.Decode(plot.GetImageBytes(width, panelHeight, ScottPlot.ImageFormat.Png));
            canvas.DrawBitmap(panel, 0, i * panelHeight);
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var image = SkiaSharp.SKImage.FromBitmap(canvasBitmap);
        using var data = image.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
        using var file = File.Create(path);
        data.SaveTo(file);
    }
}
