using System.Globalization;

namespace Incrt.Tasks.Data.SarsCov2;

/// <summary>One labelled protein sequence.</summary>
/// <param name="Id">Unique record id.</param>
/// <param name="Label">Class label (WHO variant or Omicron sub-lineage group).</param>
/// <param name="Sequence">Upper-case residues (20 standard amino acids and <c>X</c>).</param>
public sealed record SpikeRecord(string Id, string Label, string Sequence);

/// <summary>The classification tasks built from simulated spike sequences.</summary>
public enum SarsCov2Task
{
    /// <summary><c>voc5</c>: Alpha, Beta, Gamma, Delta, Omicron.</summary>
    Voc5,

    /// <summary><c>who</c>: every WHO label present in the mutation table.</summary>
    Who,

    /// <summary><c>omicron</c>: Omicron sub-lineage groups BA.1, BA.2, BA.2.12.1, BA.4/5, XBB, BA.2.86 (those present).</summary>
    Omicron,
}

/// <summary>A class of a task: its label and the lineages its sequences are simulated from (chosen uniformly per sequence).</summary>
/// <param name="Label">Class label.</param>
/// <param name="Lineages">Member lineages (at least one).</param>
public sealed record SarsCov2Class(string Label, IReadOnlyList<string> Lineages);

/// <summary>A built task with its fixed, stratified train/validation/test split.</summary>
/// <param name="Task">The task.</param>
/// <param name="Classes">The classes, in label order used for class indices.</param>
/// <param name="Train">Training records (grouped by class).</param>
/// <param name="Validation">Validation records (grouped by class).</param>
/// <param name="Test">Test records (grouped by class).</param>
public sealed record SarsCov2Dataset(
    SarsCov2Task Task,
    IReadOnlyList<SarsCov2Class> Classes,
    IReadOnlyList<SpikeRecord> Train,
    IReadOnlyList<SpikeRecord> Validation,
    IReadOnlyList<SpikeRecord> Test)
{
    /// <summary>The class labels in class-index order.</summary>
    public IReadOnlyList<string> Labels => Classes.Select(c => c.Label).ToList();

    /// <summary>All records: train, then validation, then test.</summary>
    public IReadOnlyList<SpikeRecord> All => [.. Train, .. Validation, .. Test];
}

/// <summary>
/// Builds balanced, labelled spike-classification tasks from <see cref="SpikeSimulator"/> sequences.
/// </summary>
/// <remarks>
/// <para>Class membership: for <see cref="SarsCov2Task.Voc5"/> and <see cref="SarsCov2Task.Who"/>, a WHO class holds the
/// table's lineages with that WHO label, leaving out <c>Nextstrain …</c> clades unless the label has nothing else
/// (Kappa has only <c>Nextstrain 21B</c>). For <see cref="SarsCov2Task.Omicron"/>: BA.1; BA.2; BA.2.12.1; BA.4/5 = BA.4 +
/// BA.5 (identical spike rows); XBB = XBB and every XBB.* lineage; BA.2.86. A class is left out when none of its
/// lineages is in the catalog.</para>
/// <para>Each class gets exactly <c>perClass</c> sequences. Ids are <c>{task}-{label}-{n:D5}</c> with <c>/</c> in labels
/// replaced by <c>_</c>. The split is stratified: per class, a seeded shuffle, then <see cref="ValidationFraction"/> and
/// <see cref="TestFraction"/> of the class (rounded) go to validation and test and the rest to training.</para>
/// </remarks>
public sealed class SarsCov2TaskBuilder
{
    private readonly LineageCatalog _catalog;
    private readonly SpikeSimulator _simulator;

    /// <summary>Creates a builder.</summary>
    /// <param name="catalog">Lineages and reference.</param>
    /// <param name="options">Simulation noise; <see langword="null"/> for the defaults.</param>
    public SarsCov2TaskBuilder(LineageCatalog catalog, SpikeSimulationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        _catalog = catalog;
        _simulator = new SpikeSimulator(catalog, options);
    }

    /// <summary>
    /// Training-time augmentation: when set, every <em>training</em> sequence is simulated with its own noise settings
    /// drawn from these ranges (validation and test keep the builder's options, so the test split stays in
    /// distribution). <see langword="null"/> (default): every sequence uses the builder's options.
    /// </summary>
    public SpikeSimulationRanges? TrainingAugmentation { get; init; }

    /// <summary>Fraction of each class put in the validation split. Default 0.1.</summary>
    public double ValidationFraction { get; init; } = 0.1;

    /// <summary>Fraction of each class put in the test split. Default 0.1 (so training gets 0.8).</summary>
    public double TestFraction { get; init; } = 0.1;

    /// <summary>Parses a task name: <c>voc5</c>, <c>who</c> or <c>omicron</c> (case-insensitive).</summary>
    /// <param name="name">The task name.</param>
    /// <exception cref="ArgumentException">Unknown task name.</exception>
    public static SarsCov2Task ParseTask(string name) => name?.Trim().ToLowerInvariant() switch
    {
        "voc5" => SarsCov2Task.Voc5,
        "who" => SarsCov2Task.Who,
        "omicron" => SarsCov2Task.Omicron,
        _ => throw new ArgumentException($"Unknown task '{name}'; expected voc5, who or omicron.", nameof(name)),
    };

    /// <summary>The lower-case name of a task (<c>voc5</c>, <c>who</c>, <c>omicron</c>).</summary>
    /// <param name="task">The task.</param>
    public static string TaskName(SarsCov2Task task) => task.ToString().ToLowerInvariant();

    /// <summary>The classes of a task and their member lineages.</summary>
    /// <param name="task">The task.</param>
    public IReadOnlyList<SarsCov2Class> GetClasses(SarsCov2Task task)
    {
        IEnumerable<SarsCov2Class> classes = task switch
        {
            SarsCov2Task.Voc5 => new[] { "Alpha", "Beta", "Gamma", "Delta", "Omicron" }.Select(WhoClass),
            SarsCov2Task.Who => _catalog.WhoLabels.Select(WhoClass),
            SarsCov2Task.Omicron =>
            [
                Named("BA.1", "BA.1"),
                Named("BA.2", "BA.2"),
                Named("BA.2.12.1", "BA.2.12.1"),
                Named("BA.4/5", "BA.4", "BA.5"),
                new SarsCov2Class("XBB", _catalog.Lineages.Where(l => l.IsFromTable && (l.Name == "XBB" || l.Name.StartsWith("XBB.", StringComparison.Ordinal)))
                    .Select(l => l.Name).ToList()),
                Named("BA.2.86", "BA.2.86"),
            ],
            _ => throw new ArgumentOutOfRangeException(nameof(task), task, null),
        };
        return classes.Where(c => c.Lineages.Count > 0).ToList();
    }

    /// <summary>Builds a task by name; see <see cref="Build(SarsCov2Task, int, int)"/>.</summary>
    /// <param name="task"><c>voc5</c>, <c>who</c> or <c>omicron</c>.</param>
    /// <param name="perClass">Sequences per class.</param>
    /// <param name="seed">Random seed for simulation and split.</param>
    public SarsCov2Dataset Build(string task, int perClass, int seed) => Build(ParseTask(task), perClass, seed);

    /// <summary>
    /// Simulates <paramref name="perClass"/> sequences for every class of the task and splits them (stratified,
    /// seeded). The same arguments always give the same dataset.
    /// </summary>
    /// <param name="task">The task.</param>
    /// <param name="perClass">Sequences per class (at least 1).</param>
    /// <param name="seed">Random seed for simulation and split.</param>
    public SarsCov2Dataset Build(SarsCov2Task task, int perClass, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perClass, 1);
        if (ValidationFraction < 0 || TestFraction < 0 || ValidationFraction + TestFraction >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(ValidationFraction), "Validation and test fractions must be >= 0 and sum to less than 1.");
        }
        var classes = GetClasses(task);
        if (classes.Count == 0) throw new InvalidOperationException($"Task {TaskName(task)} has no classes in this catalog.");
        var random = new Random(seed);
        var splitRandom = new Random(unchecked(seed * 31 + 17));
        var train = new List<SpikeRecord>();
        var validation = new List<SpikeRecord>();
        var test = new List<SpikeRecord>();
        string prefix = TaskName(task);
        TrainingAugmentation?.Validate();
        foreach (var c in classes)
        {
            // The split is decided first (a seeded shuffle of the class's record numbers), so that only training
            // records are augmented; without augmentation this is the same split as shuffling the records themselves.
            int nVal = (int)Math.Round(perClass * ValidationFraction, MidpointRounding.AwayFromZero);
            int nTest = (int)Math.Round(perClass * TestFraction, MidpointRounding.AwayFromZero);
            if (nVal + nTest > perClass) nVal = nTest = 0;
            var order = Enumerable.Range(0, perClass).ToArray();
            splitRandom.Shuffle(order);
            var isTrain = new bool[perClass];
            foreach (int i in order.Skip(nVal + nTest)) isTrain[i] = true;
            var records = new SpikeRecord[perClass];
            for (int i = 0; i < perClass; i++) records[i] = SimulateRecord(c, prefix, i, random, isTrain[i] ? TrainingAugmentation : null);
            validation.AddRange(order.Take(nVal).Select(i => records[i]));
            test.AddRange(order.Skip(nVal).Take(nTest).Select(i => records[i]));
            train.AddRange(order.Skip(nVal + nTest).Select(i => records[i]));
        }
        return new SarsCov2Dataset(task, classes, train, validation, test);
    }

    /// <summary>
    /// Simulates <paramref name="perClass"/> sequences for every class of the task with the builder's options, without a
    /// split and without augmentation: an extra test set (e.g. under shifted noise settings) for a trained model.
    /// </summary>
    /// <param name="task">The task.</param>
    /// <param name="perClass">Sequences per class (at least 1).</param>
    /// <param name="seed">Random seed.</param>
    public IReadOnlyList<SpikeRecord> Simulate(SarsCov2Task task, int perClass, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perClass, 1);
        var random = new Random(seed);
        string prefix = TaskName(task);
        return GetClasses(task).SelectMany(c => Enumerable.Range(0, perClass).Select(i => SimulateRecord(c, prefix, i, random, null)).ToList()).ToList();
    }

    private SpikeRecord SimulateRecord(SarsCov2Class c, string prefix, int i, Random random, SpikeSimulationRanges? augmentation)
    {
        string lineage = c.Lineages[random.Next(c.Lineages.Count)];
        var options = augmentation is null ? _simulator.Options : augmentation.Sample(random, _simulator.Options);
        var s = _simulator.Simulate(lineage, random, options);
        return new SpikeRecord($"{prefix}-{c.Label.Replace('/', '_')}-{(i + 1).ToString("D5", CultureInfo.InvariantCulture)}", c.Label, s.Sequence);
    }

    private SarsCov2Class WhoClass(string label) =>
        new(label, _catalog.WithWhoLabel(label).Select(l => l.Name).Where(n => _catalog.GetProfile(n).Count > 0).ToList());

    private SarsCov2Class Named(string label, params string[] lineages) =>
        new(label, lineages.Where(_catalog.Contains).ToList());
}
