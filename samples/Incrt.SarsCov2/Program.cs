// SARS-CoV-2 variant classification from spike proteins with an INCRT classifier that grows its own heads.
// See README.md in this folder for the commands, the outputs and why the data is simulated.
using System.CommandLine;
using System.CommandLine.Parsing;
using Incrt.SarsCov2;
using Incrt.Samples.Common;

var d = new SarsCov2AppOptions();
var explicitOptions = new Dictionary<Option, string>();
Option<T> Opt<T>(string name, string description, T defaultValue, string property)
{
    var option = new Option<T>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
    explicitOptions[option] = property;
    return option;
}

var task = Opt("--task", "Simulated task: voc5 (Alpha, Beta, Gamma, Delta, Omicron), who (every WHO label) or omicron (sub-lineages).", d.Task, nameof(d.Task));
task.AcceptOnlyFromAmong("voc5", "who", "omicron");
var perClass = Opt("--per-class", "Simulated sequences per class (80% train, 10% validation, 10% test).", d.PerClass, nameof(d.PerClass));
var seed = Opt("--seed", "Seed of simulation, split, initialisation and batch order.", d.Seed, nameof(d.Seed));
var k = Opt("--k", "Amino-acid k-mer length (1 or 3 are the documented choices; 1..8 accepted).", d.K, nameof(d.K));
var stride = Opt<int?>("--stride", "Step between k-mer starts (default: k, i.e. non-overlapping k-mers).", null, nameof(d.Stride));
var maxLength = Opt("--max-length", "Tokens per sequence including [CLS]; longer sequences lose their C-terminal end.", d.MaxLength, nameof(d.MaxLength));
var epochs = Opt("--epochs", "Training epochs (default 12; 24 with --task who; 12 with --quick).", d.Epochs, nameof(d.Epochs));
var dModel = Opt("--d-model", "Model width.", d.DModel, nameof(d.DModel));
var headDim = Opt("--head-dim", "Per-head width.", d.HeadDim, nameof(d.HeadDim));
var maxHeads = Opt("--max-heads", "Head cap per layer.", d.MaxHeads, nameof(d.MaxHeads));
var heads = Opt("--heads", "Initial heads (INCRT starts from 1); with --no-controller the fixed head count of a baseline.", d.Heads, nameof(d.Heads));
var noController = Opt("--no-controller", "Train a fixed-head baseline (no growth or pruning).", false, nameof(d.NoController));
var pooling = Opt("--pooling", "Classifier read-out: Cls, MaskedMean or MaskedMax.", d.Pooling, nameof(d.Pooling));
var dropout = Opt("--dropout", "Dropout after the embedding (0 ≤ p < 1).", d.Dropout, nameof(d.Dropout));
var attentionDropout = Opt("--attention-dropout", "Dropout on the attention weights (0 ≤ p < 1; default 0: non-zero leaves LibTorch's fused CPU attention kernel, 5.6–6.5× slower per step here).", d.AttentionDropout, nameof(d.AttentionDropout));
var tokenDropout = Opt("--token-dropout", "Word dropout in training: probability of zeroing a whole k-mer token's embedding (0 ≤ p < 1; default 0.1).", d.TokenDropout, nameof(d.TokenDropout));
var batchSize = Opt("--batch-size", "Training batch size.", d.BatchSize, nameof(d.BatchSize));
var learningRate = Opt("--lr", "Peak AdamW learning rate (warm-up 10% of the steps, then cosine).", d.LearningRate, nameof(d.LearningRate));
var threads = Opt("--threads", "Torch intra-op threads (1 is much faster for these small layers on a shared CPU; 0 = torch default).", d.Threads, nameof(d.Threads));
var device = Opt("--device", "cpu, cuda, cuda:N or auto.", d.Device, nameof(d.Device));
var output = Opt<string?>("--out", "Output folder (results.json, model.incrt, vocab.txt, bow.json, test.tsv, training.png, confusion.png, trace.csv); default runs/sarscov2, runs/sarscov2-quick with --quick, and with --eval the folder of the evaluated file.", null, nameof(d.Out));
var augment = Opt("--augment", "Training-time augmentation: simulate each training sequence with its own simulator settings (keep-probability 0.6-1, background 0-20, unknown-run probability 0-1, runs up to 12-60 aa); validation and test keep the defaults. --augment false trains at the defaults only.", d.Augment, nameof(d.Augment));
var gridPerClass = Opt("--grid-per-class", "Robustness grid: sequences per class in each test set simulated with shifted settings (0 = no grid; simulated tasks only).", d.GridPerClass, nameof(d.GridPerClass));
var profiles = Opt("--profiles", "Print each class's lineages with their full mutation profiles (ancestry resolved) and stop.", false, nameof(d.Profiles));
var oracle = Opt("--oracle", "Score the validation/test splits and the robustness grid with the simulator oracle (a likelihood classifier that knows every profile and each set's noise settings: what is attainable) and stop; trains nothing.", false, nameof(d.Oracle));
var data = Opt<string?>("--data", "Data folder: the shared data folder or its sarscov2 subfolder (default: INCRT_DATA or ../shared/data beside the checkout). With --eval, a TSV file here is the labelled data (same as --input-tsv).", null, nameof(d.Data));
var writeTsv = Opt<string?>("--write-tsv", "Also write the (simulated or read) data as id\\tlabel\\tsequence to this path.", null, nameof(d.WriteTsv));
var noTrain = Opt("--no-train", "With --write-tsv: stop after writing the data.", false, nameof(d.NoTrain));
var inputTsv = Opt<string?>("--input-tsv", "Your data: a TSV with header id\\tlabel\\tsequence (split 80/10/10 per label by --seed).", null, nameof(d.InputTsv));
var fasta = Opt<string?>("--fasta", "Your data: a protein FASTA (needs --labels).", null, nameof(d.Fasta));
var labels = Opt<string?>("--labels", "Id → label table for --fasta (TSV or CSV, e.g. an NCBI Virus export with Accession and Pangolin columns).", null, nameof(d.Labels));
var eval = Opt<string?>("--eval", "Evaluation only: a checkpoint (model.incrt, vocab.txt beside it; bow.json beside it is scored too) or a saved baseline (bow.json) to evaluate on every record of --input-tsv (or --data <tsv>) or --fasta/--labels.", null, nameof(d.Eval));
var baselineBow = Opt("--baseline-bow", "Also train a bag-of-k-mers logistic regression (overlapping k-mer presence → linear layer, AdamW) on the same split; saved as bow.json beside the checkpoint, scored by --eval.", false, nameof(d.BaselineBow));
var baselineFixed = Opt("--baseline-fixed", "Also train fixed-head transformers (no controller) with H = 1, 4, 12 and INCRT's final H on the same split and settings; prints accuracy/macro-F1 vs parameters.", false, nameof(d.BaselineFixed));
var controllerPreset = Opt("--controller", ControllerChoice.Description,
    d.Controller, nameof(d.Controller));
controllerPreset.HelpName = string.Join("|", ControllerChoice.Names);
var prune = Opt<Incrt.Control.PruneStatistic?>("--prune", "Controller prune statistic: None, Reference (the energy preset's, φ_g window of 100 calls), MinorDirection, LeaveOneOut (leave-one-out sufficiency, 10-call window) or MaskedLoss (the loss preset's); default the --controller preset's.", null, nameof(d.Prune));
var probeEvery = Opt<int?>("--probe-every", "Loss preset: steps between masking probes of a trial head (default: the preset's, 50).", null, nameof(d.ProbeEvery));
var probeExamples = Opt<int?>("--probe-examples", "Loss preset: training examples in the probe batch that judges heads (default: the trainer's, 128).", null, nameof(d.ProbeExamples));
var pruneEvery = Opt<int?>("--prune-every", "Loss preset: steps between two prune checks (default: the preset's, 200).", null, nameof(d.PruneEvery));
var trialSteps = Opt<int?>("--trial-steps", "Loss preset: steps a trial head has to become useful before it is withdrawn (default: the preset's, 300).", null, nameof(d.TrialSteps));
var pruneRatio = Opt<double?>("--prune-ratio", "With --prune LeaveOneOut: a head is redundant when λmax without it ≤ this fraction of θ_w (default: the preset's, 1).", null, nameof(d.PruneRatio));
var thresholds = Opt<Incrt.Control.ThresholdMode?>("--thresholds", "What θ_w is a fraction of: Relative (the energy and loss presets', ‖A‖_F of the current operator), RelativePositive (its positive-eigenvalue part ‖A₊‖_F) or Calibrated (fixed 0.1·Γ(0), the paper preset's); default the --controller preset's; docs/algorithm.md §4.", null, nameof(d.Thresholds));
prune.HelpName = string.Join("|", Enum.GetNames<Incrt.Control.PruneStatistic>());
thresholds.HelpName = string.Join("|", Enum.GetNames<Incrt.Control.ThresholdMode>());
var quick = Opt("--quick", "Smoke-test preset (under a minute): 100 per class, max length 128, d_model 32, head_dim 8, 12 epochs, grid 20 per class, output runs/sarscov2-quick; explicit options win.", false, nameof(d.Quick));

var root = new RootCommand("INCRT on SARS-CoV-2 spike proteins: classify variants with a transformer that grows its own attention heads.");
foreach (var option in explicitOptions.Keys) root.Options.Add(option);
var progress = ProgressOption.Create();
root.Options.Add(progress);
root.SetAction(parse =>
{
    var given = explicitOptions.Where(p => parse.GetResult(p.Key) is OptionResult { Implicit: false }).Select(p => p.Value).ToHashSet();
    var options = new SarsCov2AppOptions
    {
        Task = parse.GetValue(task)!,
        PerClass = parse.GetValue(perClass),
        Seed = parse.GetValue(seed),
        K = parse.GetValue(k),
        Stride = parse.GetValue(stride),
        MaxLength = parse.GetValue(maxLength),
        Epochs = parse.GetValue(epochs),
        DModel = parse.GetValue(dModel),
        HeadDim = parse.GetValue(headDim),
        MaxHeads = parse.GetValue(maxHeads),
        Heads = parse.GetValue(heads),
        NoController = parse.GetValue(noController),
        Pooling = parse.GetValue(pooling),
        Dropout = parse.GetValue(dropout),
        AttentionDropout = parse.GetValue(attentionDropout),
        TokenDropout = parse.GetValue(tokenDropout),
        BatchSize = parse.GetValue(batchSize),
        LearningRate = parse.GetValue(learningRate),
        Threads = parse.GetValue(threads),
        Device = parse.GetValue(device)!,
        Out = parse.GetValue(output),
        Augment = parse.GetValue(augment),
        GridPerClass = parse.GetValue(gridPerClass),
        Oracle = parse.GetValue(oracle),
        Profiles = parse.GetValue(profiles),
        Data = parse.GetValue(data),
        WriteTsv = parse.GetValue(writeTsv),
        NoTrain = parse.GetValue(noTrain),
        InputTsv = parse.GetValue(inputTsv),
        Fasta = parse.GetValue(fasta),
        Labels = parse.GetValue(labels),
        Quick = parse.GetValue(quick),
        Eval = parse.GetValue(eval),
        BaselineBow = parse.GetValue(baselineBow),
        BaselineFixed = parse.GetValue(baselineFixed),
        Prune = parse.GetValue(prune),
        PruneRatio = parse.GetValue(pruneRatio),
        ProbeEvery = parse.GetValue(probeEvery),
        PruneEvery = parse.GetValue(pruneEvery),
        TrialSteps = parse.GetValue(trialSteps),
        ProbeExamples = parse.GetValue(probeExamples),
        Thresholds = parse.GetValue(thresholds),
        Controller = parse.GetValue(controllerPreset)!,
    }.WithTaskDefaults(given).WithQuickPreset(given);
    using var console = SampleConsole.Create(parse.GetValue(progress));
    return SarsCov2App.Run(options, console.Out, Console.Error, console.Logging, console.Progress);
});
return SampleCommandLine.Invoke(root, args);
