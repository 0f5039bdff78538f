using System.Globalization;
using System.Text.Json;
using Incrt.Persistence;
using Incrt.Samples.Common;
using Incrt.Tasks.Data.SarsCov2;

namespace Incrt.SarsCov2;

/// <summary>
/// Evaluation-only mode (<c>--eval</c>): reloads a run's INCRT checkpoint with its tokenizer, and the bag-of-k-mers
/// baseline saved beside it when there is one, and scores both on every record of a labelled TSV or FASTA (no split).
/// </summary>
public static class SarsCov2Evaluation
{
    /// <summary>Metadata keys the training run writes into the checkpoint.</summary>
    internal const string MetaSample = "sample", MetaLabels = "labels", MetaK = "k", MetaStride = "stride",
        MetaMaxLength = "maxLength", MetaTokenizer = "tokenizer", MetaSeed = "seed";

    /// <summary>
    /// Scores the checkpoint named by <c>--eval</c> (<c>model.incrt</c>, or a saved baseline <c>bow.json</c> alone) on
    /// the labelled data. Prints accuracy, macro-F1, per-class scores and the confusion matrix of each model, and writes
    /// <c>&lt;data&gt;.eval.json</c> and <c>&lt;data&gt;.eval-confusion.png</c> (<c>…eval-bow-confusion.png</c> for the baseline)
    /// into <c>--out</c>, by default the folder of the evaluated file, so a run's own plots are never overwritten.
    /// Every problem with the data is reported before anything is written.
    /// </summary>
    /// <param name="o">The options (<see cref="SarsCov2AppOptions.Eval"/> set).</param>
    /// <param name="stdout">The report.</param>
    public static int Run(SarsCov2AppOptions o, TextWriter stdout)
    {
        ArgumentNullException.ThrowIfNull(o);
        ArgumentNullException.ThrowIfNull(stdout);
        var inv = CultureInfo.InvariantCulture;
        string evalPath = SarsCov2Inputs.RequireFile(o.Eval!, "--eval");
        if (o.InputTsv is null && o.Fasta is null && o.Labels is null)
            throw new UsageException("--eval needs labelled data: --input-tsv <tsv> (or --data <tsv>) or --fasta <fasta> --labels <table>.");
        if (o.WriteTsv is not null || o.BaselineBow) throw new UsageException("--eval cannot be combined with --write-tsv or --baseline-bow.");
        var (_, records) = SarsCov2Inputs.LoadUserRecords(o);
        string dataFile = (o.InputTsv ?? o.Fasta)!;

        bool bowOnly = evalPath.EndsWith(".json", StringComparison.OrdinalIgnoreCase);
        string bowPath = bowOnly ? evalPath : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(evalPath))!, BagOfKmersModel.FileName);
        var bow = bowOnly || File.Exists(bowPath) ? BagOfKmersModel.Load(bowPath) : null;

        var device = SampleRuntime.Configure(o.Device, o.Threads, o.Seed);
        LoadedCheckpoint? checkpoint = bowOnly ? null : IncrtCheckpoint.Load(evalPath, device);
        using var model = checkpoint?.Model;
        var meta = checkpoint?.Metadata ?? new Dictionary<string, string>();
        string Meta(string key) => meta.TryGetValue(key, out var v) ? v
            : throw new UsageException($"--eval {o.Eval}: the checkpoint has no '{key}' metadata; was it written by this sample?");
        var labels = checkpoint is null ? bow!.Labels
            : JsonSerializer.Deserialize<List<string>>(Meta(MetaLabels)) ?? throw new UsageException($"--eval {o.Eval}: empty label list in the checkpoint metadata.");
        var unknown = records.FirstOrDefault(r => !labels.Contains(r.Label, StringComparer.Ordinal));
        if (unknown is not null)
        {
            int? line = SarsCov2Inputs.LineOf(dataFile, unknown.Id);
            throw new UsageException($"{dataFile}: {(line is int l ? $"line {l} " : "")}(record '{unknown.Id}'): label '{unknown.Label}' is not one the model was trained on (its classes: {string.Join(", ", labels)}).");
        }

        string outDir = o.Out ?? Path.GetDirectoryName(Path.GetFullPath(dataFile))!;
        string stem = Path.GetFileNameWithoutExtension(dataFile);
        var files = new List<string>();
        var json = new Dictionary<string, object?> { ["data"] = dataFile, ["records"] = records.Count };
        Directory.CreateDirectory(outDir);
        if (checkpoint is not null && model is not null)
        {
            int k = int.Parse(Meta(MetaK), inv), stride = int.Parse(Meta(MetaStride), inv), maxLength = int.Parse(Meta(MetaMaxLength), inv);
            var vocabPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(evalPath))!, Meta(MetaTokenizer));
            SarsCov2Inputs.RequireFile(vocabPath, "tokenizer next to the checkpoint");
            var tokenizer = KmerTokenizer.Load(vocabPath);
            if (tokenizer.K != k || tokenizer.Stride != stride || tokenizer.VocabularySize != model.Options.VocabSize)
                throw new UsageException($"{vocabPath}: k={tokenizer.K} stride={tokenizer.Stride} vocabulary {tokenizer.VocabularySize} does not match the checkpoint (k={k} stride={stride} vocabulary {model.Options.VocabSize}).");
            var encoder = new SpikeEncoder(tokenizer, (int)Math.Min(maxLength, model.Options.MaxLength), labels);
            var metrics = encoder.Score(model, records, new ExperimentSettings { Model = model.Options }.EvaluationBatchSize, o.Seed, device);
            stdout.WriteLine(string.Create(inv,
                $"checkpoint: {o.Eval} (heads {string.Join(",", checkpoint.HeadCounts)}, {model.ParameterCount():N0} parameters, k={k} stride={stride} max length {maxLength})"));
            stdout.WriteLine(string.Create(inv, $"evaluated {records.Count} records of {dataFile}:"));
            stdout.Write(metrics.ToText());
            var png = Path.Combine(outDir, $"{stem}.eval-confusion.png");
            ConfusionPlot.Save(png, metrics, $"{Path.GetFileName(o.Eval)} on {Path.GetFileName(dataFile)}");
            files.Add(png);
            json["incrt"] = new { checkpoint = o.Eval, accuracy = metrics.Accuracy, macroF1 = metrics.MacroF1, confusion = metrics.Confusion };
        }
        if (bow is not null)
        {
            var index = bow.Labels.Select((l, i) => (l, i)).ToDictionary(p => p.l, p => p.i, StringComparer.Ordinal);
            var metrics = bow.Score(records.Select(r => (r.Sequence, index.TryGetValue(r.Label, out int c) ? c
                : throw new UsageException($"{dataFile}: record '{r.Id}': label '{r.Label}' is not one the baseline was trained on."))).ToList());
            stdout.WriteLine();
            stdout.WriteLine(string.Create(inv, $"bag-of-{bow.K}-mers baseline: {bowPath} ({bow.Features} features), {records.Count} records of {dataFile}:"));
            stdout.Write(metrics.ToText());
            var png = Path.Combine(outDir, $"{stem}.eval-bow-confusion.png");
            ConfusionPlot.Save(png, metrics, $"bag-of-{bow.K}-mers on {Path.GetFileName(dataFile)}");
            files.Add(png);
            json["bagOfKmers"] = new { model = bowPath, accuracy = metrics.Accuracy, macroF1 = metrics.MacroF1, confusion = metrics.Confusion };
        }
        var resultsPath = Path.Combine(outDir, $"{stem}.eval.json");
        ResultsFile.Write(resultsPath, json);
        files.Add(resultsPath);
        stdout.WriteLine($"wrote {string.Join(", ", files)}");
        return 0;
    }
}
