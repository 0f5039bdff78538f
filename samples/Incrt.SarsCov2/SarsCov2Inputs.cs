using Incrt.Tasks.Data;
using Incrt.Tasks.Data.SarsCov2;

namespace Incrt.SarsCov2;

/// <summary>The labelled data of a run and its stratified split.</summary>
/// <param name="Source">Where the data came from, for the report.</param>
/// <param name="Labels">Class labels in class-index order.</param>
/// <param name="Train">Training records.</param>
/// <param name="Validation">Validation records.</param>
/// <param name="Test">Test records.</param>
/// <param name="Catalog">The lineage catalog the data was simulated from; null for user data.</param>
/// <param name="Task">The simulated task; null for user data.</param>
public sealed record SampleSplits(string Source, IReadOnlyList<string> Labels, IReadOnlyList<SpikeRecord> Train,
    IReadOnlyList<SpikeRecord> Validation, IReadOnlyList<SpikeRecord> Test, LineageCatalog? Catalog = null, SarsCov2Task? Task = null)
{
    /// <summary>Train, then validation, then test.</summary>
    public IEnumerable<SpikeRecord> All => Train.Concat(Validation).Concat(Test);
}

/// <summary>
/// Where a run's labelled spikes come from: the simulator (task, per-class count, seed, optional training-time
/// augmentation) or the user's TSV / FASTA + label table, each read with one clear error per problem.
/// </summary>
public static class SarsCov2Inputs
{
    /// <summary>The training augmentation used by <c>--augment</c>: keep-probability 0.6–1, background mean 0–20,
    /// unknown-run probability 0–1, longest unknown run 12–60 residues, drawn per training sequence.</summary>
    public static SpikeSimulationRanges Augmentation { get; } = new();

    /// <summary>Simulates the task (or reads the user's data) and splits it 80/10/10 per class by the seed.</summary>
    /// <param name="o">The run's options.</param>
    public static SampleSplits Load(SarsCov2AppOptions o)
    {
        ArgumentNullException.ThrowIfNull(o);
        if (o.InputTsv is not null || o.Fasta is not null || o.Labels is not null)
        {
            var (source, records) = LoadUserRecords(o);
            return SplitUserData(source, records, o.Seed);
        }
        if (o.PerClass < 1) throw new UsageException($"--per-class must be at least 1 (got {o.PerClass}).");
        var task = SarsCov2TaskBuilder.ParseTask(o.Task);
        var (folder, catalog) = LoadCatalog(o.Data);
        var builder = new SarsCov2TaskBuilder(catalog) { TrainingAugmentation = o.Augment ? Augmentation : null };
        var dataset = builder.Build(task, o.PerClass, o.Seed);
        string augmented = o.Augment ? ", training sequences augmented (simulator settings drawn per sequence)" : "";
        return new SampleSplits($"simulated task {SarsCov2TaskBuilder.TaskName(task)}, {o.PerClass} per class, seed {o.Seed}{augmented}, from {folder}",
            dataset.Labels, dataset.Train, dataset.Validation, dataset.Test, catalog, task);
    }

    /// <summary>The lineage catalog of the data folder (see <see cref="ResolveSarsCov2Folder"/>).</summary>
    /// <param name="data">The <c>--data</c> option, or null.</param>
    public static (string Folder, LineageCatalog Catalog) LoadCatalog(string? data)
    {
        var folder = ResolveSarsCov2Folder(data);
        return (folder, LineageCatalog.LoadDirectory(folder));
    }

    /// <summary>
    /// Reads <c>--input-tsv</c> or <c>--fasta</c> + <c>--labels</c>. A file with no records (empty, header only) is an
    /// error naming the file.
    /// </summary>
    /// <param name="o">The run's options.</param>
    public static (string Source, IReadOnlyList<SpikeRecord> Records) LoadUserRecords(SarsCov2AppOptions o)
    {
        ArgumentNullException.ThrowIfNull(o);
        bool tsv = o.InputTsv is not null, fasta = o.Fasta is not null || o.Labels is not null;
        if (tsv && fasta) throw new UsageException("Give either --input-tsv or --fasta with --labels, not both.");
        if (fasta && (o.Fasta is null || o.Labels is null)) throw new UsageException("--fasta and --labels must be given together.");
        IReadOnlyList<SpikeRecord> records;
        string file;
        if (tsv)
        {
            file = RequireFile(o.InputTsv!, "--input-tsv");
            records = SpikeTsv.ReadFile(file);
            if (records.Count == 0) throw new UsageException($"{o.InputTsv}: no records (the file has only a header or blank lines).");
            return ($"user TSV {o.InputTsv}", records);
        }
        file = RequireFile(o.Fasta!, "--fasta");
        RequireFile(o.Labels!, "--labels");
        records = LabelledFasta.ReadFiles(file, o.Labels!);
        if (records.Count == 0) throw new UsageException($"{o.Fasta}: no FASTA records (the file is empty or has only comments and blank lines).");
        return ($"user FASTA {o.Fasta} with labels {o.Labels}", records);
    }

    /// <summary>The 1-based line where a record starts in its file (TSV: the line that begins with its id and a tab;
    /// FASTA: its <c>&gt;</c> header), or null when not found; used to name the line in an error.</summary>
    /// <param name="path">The TSV or FASTA file.</param>
    /// <param name="id">The record id.</param>
    public static int? LineOf(string path, string id)
    {
        int n = 0;
        foreach (var line in File.ReadLines(path))
        {
            n++;
            var t = line.TrimStart();
            if (t.StartsWith(id + "\t", StringComparison.Ordinal)) return n;
            if (t.StartsWith('>') && t[1..].TrimStart().Split([' ', '\t'], 2)[0] == id) return n;
        }
        return null;
    }

    /// <summary>The folder holding <c>voc_spike_mutations.tsv</c>: <paramref name="data"/> itself when it holds the
    /// table, else its <c>sarscov2</c> subfolder; <see cref="DataPaths.Resolve(string?)"/> when null.</summary>
    /// <param name="data">The <c>--data</c> option, or null.</param>
    public static string ResolveSarsCov2Folder(string? data)
    {
        if (data is not null && File.Exists(Path.Combine(data, LineageCatalog.MutationTableFileName))) return Path.GetFullPath(data);
        var root = DataPaths.Resolve(data);
        var folder = Path.Combine(root, "sarscov2");
        if (!File.Exists(Path.Combine(folder, LineageCatalog.MutationTableFileName)))
            throw new UsageException($"--data: no {LineageCatalog.MutationTableFileName} in {root} or {folder}; pass --data <folder> (the shared data folder or its sarscov2 subfolder).");
        return folder;
    }

    /// <summary>Returns <paramref name="path"/> when the file exists; else a usage error naming the option.</summary>
    /// <param name="path">The file.</param>
    /// <param name="option">The option that named it.</param>
    public static string RequireFile(string path, string option)
    {
        if (!File.Exists(path)) throw new UsageException($"{option}: file not found: {Path.GetFullPath(path)}");
        return path;
    }

    /// <summary>Stratified split of user data: per label (labels in ordinal order), a seeded shuffle, then 10% to
    /// validation and 10% to test (rounded) and the rest to training.</summary>
    private static SampleSplits SplitUserData(string source, IReadOnlyList<SpikeRecord> records, int seed)
    {
        var labels = records.Select(r => r.Label).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var random = new Random(seed);
        List<SpikeRecord> train = [], validation = [], test = [];
        foreach (var label in labels)
        {
            var members = records.Where(r => r.Label == label).ToArray();
            random.Shuffle(members);
            int nVal = (int)Math.Round(members.Length * 0.1, MidpointRounding.AwayFromZero);
            int nTest = (int)Math.Round(members.Length * 0.1, MidpointRounding.AwayFromZero);
            validation.AddRange(members.Take(nVal));
            test.AddRange(members.Skip(nVal).Take(nTest));
            train.AddRange(members.Skip(nVal + nTest));
        }
        return new SampleSplits(source, labels, train, validation, test);
    }
}
