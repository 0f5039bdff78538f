using FluentAssertions;
using Incrt.Persistence;
using Incrt.Training;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace Incrt.Tests.Docs;

/// <summary>The README's code snippets live here, so they compile and run with every test run.</summary>
public class ReadmeSnippetTests
{
    [Fact]
    public void Growable_attention_snippet_runs()
    {
        // README: "Growable attention" — begin
        using var scope = torch.NewDisposeScope();
        var layer = new GrowableMultiHeadAttention(new AttentionOptions(DModel: 64, HeadDim: 16, InitialHeads: 1, MaxHeads: 8));
        var optimizer = torch.optim.AdamW(layer.parameters().ToArray(), lr: 1e-3);   // materialise the parameters

        var x = torch.randn(4, 10, 64);                                  // (B, T, d_model)
        var padding = torch.zeros(4, 10, dtype: torch.ScalarType.Bool); // true = padding
        var y = layer.forward(x, padding);                               // (B, T, d_model)

        // Add a head that does not change the output yet, and resize AdamW's moments with it.
        HeadSurgery.AddHead(layer, optimizer, HeadInit.FunctionPreserving);
        // Remove head 0; the other heads and their optimizer moments stay bit-identical.
        HeadSurgery.RemoveHeads(layer, optimizer, new[] { 0 });
        // README: "Growable attention" — end

        y.shape.Should().Equal(4, 10, 64);
        layer.HeadCount.Should().Be(1);
        layer.HeadIds.Should().Equal(1);
    }

    [Fact]
    public void Training_loop_snippet_runs()
    {
        torch.manual_seed(0);
        var batches = Enumerable.Range(0, 40).Select(i =>
            (Ids: torch.randint(3, 50, new long[] { 8, 12 }), Mask: torch.zeros(8, 12, dtype: torch.ScalarType.Bool),
             Labels: torch.randint(0, 2, new long[] { 8 }))).ToList();

        // README: "Training loop" — begin
        var model = new IncrtClassifier(new IncrtModelOptions(VocabSize: 50, MaxLength: 12, DModel: 32, HeadDim: 8));
        var optimizer = torch.optim.AdamW(model.parameters().ToArray(), lr: 1e-3);
        using var controller = new HeadController(model.GrowableLayers, optimizer, model: model);  // ControllerPresets.Default
        var (probeIds, probeMask, probeLabels) = batches[0];             // a fixed batch of training examples
        controller.LossProbe = () =>                                     // its loss; the rules mask heads around this call
        {
            model.eval();
            try { return torch.nn.functional.cross_entropy(model.forward(probeIds, probeMask), probeLabels).item<float>(); }
            finally { model.train(); }
        };
        controller.HeadChanged += (_, e) => Console.WriteLine($"step {e.Step}: {e.Kind} → {e.HeadsAfter} heads");

        long step = 0;
        foreach (var (ids, mask, labels) in batches)
        {
            using var scope = torch.NewDisposeScope();
            optimizer.zero_grad();
            var loss = torch.nn.functional.cross_entropy(model.forward(ids, mask), labels);
            loss.backward();
            optimizer.step();
            controller.Step(step++, loss.item<float>());                 // after optimizer.step()
        }
        // README: "Training loop" — end

        controller.Calls.Should().Be(8);
        controller.Trace.Rows.Should().HaveCount(8);
        int grown = controller.Trace.Rows.Count(r => r.Decision == "grew"), pruned = controller.Trace.Rows.Count(r => r.Decision is "pruned" or "withdrawn");
        model.GrowableLayers[0].HeadCount.Should().Be(1 + grown - pruned, "the head count follows the reported decisions");
        HeadSurgery.CollectSlots(model.GrowableLayers[0], optimizer).Select(s => s.Get()).Where(t => t is not null)
            .Should().OnlyContain(t => t!.shape[0] == model.GrowableLayers[0].HeadCount);
    }

    [Fact]
    public void Checkpoint_snippet_runs()
    {
        var dir = Directory.CreateTempSubdirectory("incrt-readme-").FullName;
        try
        {
            var model = new IncrtClassifier(new IncrtModelOptions(VocabSize: 50, MaxLength: 12, DModel: 32, HeadDim: 8));
            var optimizer = torch.optim.AdamW(model.parameters().ToArray(), lr: 1e-3);
            using var controller = new HeadController(model.GrowableLayers, optimizer);
            var path = Path.Combine(dir, "step-1000.incrt");

            // README: "Checkpoints" — begin
            Incrt.Persistence.IncrtCheckpoint.Save(path, model, optimizer, controller);

            var checkpoint = Incrt.Persistence.IncrtCheckpoint.Load(path);     // rebuilds the saved head layout first
            var resumed = checkpoint.Model;
            var resumedOptimizer = torch.optim.AdamW(resumed.parameters().ToArray(), lr: 1e-3);
            checkpoint.RestoreOptimizer(resumedOptimizer);
            using var resumedController = checkpoint.CreateController(resumedOptimizer);
            // README: "Checkpoints" — end

            resumed.GrowableLayers[0].HeadCount.Should().Be(model.GrowableLayers[0].HeadCount);
            resumed.Dispose();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>README "Your own model": a module that lists its growable layer, trained by Trainer, checkpointed.</summary>
    private sealed class TinyTagger : nn.Module<Tensor, Tensor>, IGrowableModel
    {
        // README: "Your own model class" — begin
        private readonly Embedding embed = nn.Embedding(32, 16);
        private readonly GrowableMultiHeadAttention attn = new(new AttentionOptions(DModel: 16, HeadDim: 4, MaxHeads: 8));
        private readonly Linear readout = nn.Linear(16, 2);
        public TinyTagger() : base("tiny_tagger") => RegisterComponents();
        public IReadOnlyList<GrowableMultiHeadAttention> GrowableLayers => new[] { attn };
        public override Tensor forward(Tensor ids) { var x = embed.call(ids); return readout.call((x + attn.forward(x)).mean(new long[] { 1 })); }
        // README: "Your own model class" — end
    }

    [Fact]
    public void Your_own_model_snippet_runs()
    {
        torch.manual_seed(0);
        var batches = Enumerable.Range(0, 20).Select(i =>
        {
            var ids = torch.randint(1, 32, new long[] { 8, 12 });
            return (Ids: ids, Labels: ids.select(1, 1).gt(ids.select(1, 2)).to(torch.ScalarType.Int64));
        }).ToList();
        var dir = Directory.CreateTempSubdirectory("incrt-readme-").FullName;
        var path = Path.Combine(dir, "tagger.incrt");
        try
        {
            // README: "Your own model" — begin
            var model = new TinyTagger();
            var trainer = new Trainer(model, b => model.forward(b.Ids), new TrainerOptions { LearningRate = 1e-2 });
            using var controller = new HeadController(model.GrowableLayers, trainer.Optimizer, ControllerPresets.Energy, model: model);
            trainer.Controller = controller;
            foreach (var (ids, labels) in batches)
            {
                using var batch = new SequenceBatch(ids, labels);                // (B, T) int64, (B) int64; no padding
                trainer.TrainStep(batch, totalSteps: batches.Count);             // optimizer step, then the controller
            }
            IncrtCheckpoint.Save(path, model, trainer.Optimizer, controller);
            var restored = new TinyTagger();
            var checkpoint = IncrtCheckpoint.LoadInto(path, restored);          // same type: resizes its layers, loads the weights
            // README: "Your own model" — end

            controller.Calls.Should().Be(4);
            checkpoint.GrowableLayers[0].HeadIds.Should().Equal(model.GrowableLayers[0].HeadIds);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Every_snippet_here_is_printed_verbatim_in_the_readme()
    {
        var here = File.ReadAllLines(Path.Combine(RepositoryRoot(), "tests", "Incrt.Tests", "Docs", "ReadmeSnippetTests.cs"));
        var readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md")).Replace("\r\n", "\n");
        int blocks = 0;
        for (int i = 0; i < here.Length; i++)
        {
            if (!here[i].Contains("// README: \"", StringComparison.Ordinal) || !here[i].TrimEnd().EndsWith("begin", StringComparison.Ordinal)) continue;
            int end = Array.FindIndex(here, i + 1, l => l.Contains("// README: \"", StringComparison.Ordinal));
            // Line by line, in order (the README may indent a block differently, e.g. inside a class).
            int at = 0;
            foreach (var line in here[(i + 1)..end].Select(l => l.Trim()).Where(l => l.Length > 0))
            {
                int found = readme.IndexOf(line, at, StringComparison.Ordinal);
                found.Should().BeGreaterThanOrEqualTo(0, $"the README prints \"{line}\" of the snippet that starts at line {i + 2} of ReadmeSnippetTests.cs, after its previous line");
                at = found + line.Length;
            }
            blocks++;
        }
        blocks.Should().BeGreaterThanOrEqualTo(5);
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Incrt.sln"))) dir = dir.Parent;
        return dir!.FullName;
    }
}
