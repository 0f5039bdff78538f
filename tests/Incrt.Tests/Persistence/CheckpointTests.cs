using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using FluentAssertions;
using Incrt.Attention;
using Incrt.Control;
using Incrt.Energy;
using Incrt.Models;
using Incrt.Persistence;
using Incrt.Surgery;
using Incrt.Tests.Data;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Incrt.Tests.Persistence;

public class CheckpointTests
{
    private readonly ITestOutputHelper _out;

    public CheckpointTests(ITestOutputHelper output) => _out = output;

    private static readonly IncrtModelOptions Small = new(VocabSize: 24, MaxLength: 8, DModel: 16, HeadDim: 4, Layers: 2,
        InitialHeads: 1, MaxHeads: 6, Dropout: 0.1, Classes: 3, Seed: 11);

    /// <summary>Aggressive settings so a short run both grows and prunes heads.</summary>
    private static ControllerOptions Control => new()
    {
        Interval = 1, CalibrationCalls = 3, MaxDwellCalls = 2, PruneWindow = 2, PruneAgeGuard = 3,
        ThetaW = 1e-3, PhiG = 3, Prune = PruneStatistic.Reference,
        Estimator = new EstimatorOptions { EtaPlus = 0.5, Iterations = 8 },
    };

    private static (Tensor Ids, Tensor Labels) Batch(long step)
    {
        using var g = new Generator(1000 + (ulong)step);
        var ids = randint(1, Small.VocabSize, new long[] { 8, 8 }, generator: g, dtype: ScalarType.Int64);
        var labels = (ids.select(1, 1) + ids.select(1, 2)).remainder(Small.Classes);
        return (ids, labels);
    }

    private static double TrainStep(IncrtClassifier model, optim.Optimizer opt, HeadController? controller, long step, List<HeadEvent>? events)
    {
        using var scope = NewDisposeScope();
        model.train();
        var (ids, labels) = Batch(step);
        var loss = nn.functional.cross_entropy(model.forward(ids), labels);
        opt.zero_grad();
        loss.backward();
        opt.step();
        double value = loss.item<float>();
        var e = controller?.Step(step, value);
        if (e is not null) events?.AddRange(e);
        return value;
    }

    private static Tensor Eval(IncrtClassifier model, long seed)
    {
        model.eval();
        using (no_grad()) return model.forward(Batch(seed).Ids);
    }

    [Fact]
    public void Round_trip_of_a_model_whose_head_counts_changed_gives_identical_outputs()
    {
        using var dir = new TempDirectory();
        using var scope = NewDisposeScope();
        var path = Path.Combine(dir.Path, "model.incrt");
        using var model = new IncrtClassifier(Small);
        var l0 = model.GrowableLayers[0];
        var l1 = model.GrowableLayers[1];
        HeadSurgery.AddHead(l0, null, HeadInit.Random);
        HeadSurgery.AddHead(l0, null, HeadInit.Random);
        HeadSurgery.AddHead(l0, null, HeadInit.Random);
        HeadSurgery.RemoveHeads(l0, null, new[] { 1 });
        HeadSurgery.AddHead(l1, null, HeadInit.Random);
        l0.HeadIds.Should().Equal(0, 2, 3);
        var expected = Eval(model, 7);

        var sw = Stopwatch.StartNew();
        IncrtCheckpoint.Save(path, model, metadata: new Dictionary<string, string> { ["run"] = "rt", ["step"] = "42" });
        double saveMs = sw.Elapsed.TotalMilliseconds;
        sw.Restart();
        var loaded = IncrtCheckpoint.Load(path);
        double loadMs = sw.Elapsed.TotalMilliseconds;
        using var copy = loaded.Model;
        _out.WriteLine($"checkpoint {new FileInfo(path).Length} bytes, {model.ParameterCount()} parameters; save {saveMs:F1} ms, load {loadMs:F1} ms");

        loaded.HeadCounts.Should().Equal(3, 2);
        copy.GrowableLayers[0].HeadIds.Should().Equal(0, 2, 3);
        copy.GrowableLayers[0].NextHeadId.Should().Be(4);
        copy.GrowableLayers[1].HeadIds.Should().Equal(0, 1);
        copy.Options.Should().Be(Small);
        loaded.Metadata.Should().Contain("run", "rt").And.Contain("step", "42");
        loaded.OptimizerKind.Should().BeNull();
        loaded.HasControllerState.Should().BeFalse();
        var actual = Eval(copy, 7);
        actual.equal(expected).all().item<bool>().Should().BeTrue("the outputs must be bit-identical");

        // The next grown head draws the same initial weights (the layer generator is part of the checkpoint).
        HeadSurgery.AddHead(l0, null, HeadInit.Random);
        HeadSurgery.AddHead(copy.GrowableLayers[0], null, HeadInit.Random);
        Eval(copy, 8).equal(Eval(model, 8)).all().item<bool>().Should().BeTrue();
    }

    [Fact]
    public void Resumed_training_repeats_the_uninterrupted_losses_and_decisions_exactly()
    {
        var (all, afterResume) = ResumeMatches(Control, n: 14, m: 16);
        all.Should().Contain(e => e.Kind == HeadEventKind.Grew);
        all.Should().Contain(e => e.Kind == HeadEventKind.Pruned);
        afterResume.Should().Contain(e => e.Kind == HeadEventKind.Grew, "decisions after the resume point are compared");
        afterResume.Should().Contain(e => e.Kind == HeadEventKind.Pruned);
    }

    [Fact]
    public void Resuming_under_the_leave_one_out_rule_repeats_its_grow_and_prune_decisions_exactly()
    {
        // Ratio huge: every head counts as redundant, so the window and its restarts after each change decide.
        var options = Control with { Prune = PruneStatistic.LeaveOneOut, LeaveOneOutWindow = 2, LeaveOneOutAgeGuard = 3, LeaveOneOutRatio = 1e9 };
        var (_, afterResume) = ResumeMatches(options, n: 14, m: 16);
        afterResume.Should().Contain(e => e.Kind == HeadEventKind.Grew);
        afterResume.Should().Contain(e => e.Kind == HeadEventKind.Pruned);
    }

    [Fact]
    public void Resuming_in_the_middle_of_calibration_is_exact_too()
    {
        var options = Control with { ThetaW = null, PhiG = null, CalibrationCalls = 6, Interval = 2 };
        var (_, afterResume) = ResumeMatches(options, n: 5, m: 30);
        afterResume.Should().Contain(e => e.Kind == HeadEventKind.Calibrated);
    }

    private (List<HeadEvent> All, List<HeadEvent> AfterResume) ResumeMatches(ControllerOptions control, int n, int m)
    {
        int N = n, M = m;
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "resume.incrt");

        // Uninterrupted run, with a checkpoint after N steps.
        torch.manual_seed(5);
        using var model = new IncrtClassifier(Small);
        var opt = optim.AdamW(model.parameters().ToArray(), lr: 1e-2);
        using var controller = new HeadController(model.GrowableLayers, opt, control, model: model);
        var allEvents = new List<HeadEvent>();
        for (int s = 0; s < N; s++) TrainStep(model, opt, controller, s, allEvents);
        var sw = Stopwatch.StartNew();
        IncrtCheckpoint.Save(path, model, opt, controller, new Dictionary<string, string> { ["step"] = N.ToString() });
        double saveMs = sw.Elapsed.TotalMilliseconds;
        var headsAtSave = controller.HeadCounts.ToList();
        var lossesA = new List<double>();
        var eventsA = new List<HeadEvent>();
        for (int s = N; s < N + M; s++) lossesA.Add(TrainStep(model, opt, controller, s, eventsA));
        allEvents.AddRange(eventsA);

        // Resumed run.
        torch.manual_seed(999);                       // whatever the global RNG did meanwhile
        sw.Restart();
        var loaded = IncrtCheckpoint.Load(path);
        using var resumed = loaded.Model;
        var opt2 = optim.AdamW(resumed.parameters().ToArray(), lr: 0.5);   // lr is restored from the checkpoint
        loaded.RestoreOptimizer(opt2);
        using var controller2 = loaded.CreateController(opt2);
        loaded.RestoreRandomState();
        double loadMs = sw.Elapsed.TotalMilliseconds;
        controller2.HeadCounts.Should().Equal(headsAtSave);
        controller2.Calls.Should().Be(CallsAt(N, control));
        var lossesB = new List<double>();
        var eventsB = new List<HeadEvent>();
        for (int s = N; s < N + M; s++) lossesB.Add(TrainStep(resumed, opt2, controller2, s, eventsB));

        _out.WriteLine($"heads at save {string.Join(",", headsAtSave)}, final {string.Join(",", controller.HeadCounts)}; " +
            $"events {string.Join(" ", allEvents.Select(e => $"{e.Call}:{e.Layer}:{e.Kind}"))}");
        _out.WriteLine($"checkpoint {new FileInfo(path).Length} bytes; save {saveMs:F1} ms, load+restore {loadMs:F1} ms");
        lossesB.Should().Equal(lossesA, "a resumed run must produce bit-identical losses");
        eventsB.Should().Equal(eventsA);
        controller2.HeadCounts.Should().Equal(controller.HeadCounts);
        resumed.GrowableLayers.Select(l => l.HeadIds.ToList()).Should().BeEquivalentTo(model.GrowableLayers.Select(l => l.HeadIds.ToList()), o => o.WithStrictOrdering());
        controller2.Trace.Rows.Should().Equal(controller.Trace.Rows);
        return (allEvents, eventsA);
    }

    private static long CallsAt(int steps, ControllerOptions o) => steps / o.Interval;

    private static string SaveSmall(TempDirectory dir, string name = "m.incrt")
    {
        var path = Path.Combine(dir.Path, name);
        using var model = new IncrtClassifier(Small);
        var opt = optim.AdamW(model.parameters().ToArray());
        using var controller = new HeadController(model.GrowableLayers, opt, Control, model: model);
        IncrtCheckpoint.Save(path, model, opt, controller);
        return path;
    }

    private static CheckpointException LoadFails(string path)
    {
        var act = () => IncrtCheckpoint.Load(path);
        var e = act.Should().Throw<CheckpointException>().Which;
        e.Message.Should().Contain(path);
        e.FilePath.Should().Be(path);
        return e;
    }

    [Fact]
    public void Flipped_bytes_are_reported_as_corrupt()
    {
        using var dir = new TempDirectory();
        var path = SaveSmall(dir);
        var bytes = File.ReadAllBytes(path);
        foreach (var at in new[] { bytes.Length / 2, bytes.Length - 40, 30 })
        {
            var copy = (byte[])bytes.Clone();
            copy[at] ^= 0x5A;
            File.WriteAllBytes(path, copy);
            LoadFails(path).Problem.Should().MatchRegex("corrupt|truncated", $"byte {at} was flipped");
        }
    }

    [Fact]
    public void Truncated_files_are_reported_as_truncated()
    {
        using var dir = new TempDirectory();
        var path = SaveSmall(dir);
        var bytes = File.ReadAllBytes(path);
        foreach (var length in new[] { 4, 10, 20, bytes.Length / 3, bytes.Length - 1 })
        {
            File.WriteAllBytes(path, bytes.AsSpan(0, length).ToArray());
            LoadFails(path).Problem.Should().Contain("truncated", $"the file was cut to {length} bytes");
        }
        File.WriteAllBytes(path, Array.Empty<byte>());
        LoadFails(path).Problem.Should().Contain("empty");
    }

    [Fact]
    public void Foreign_files_are_reported_as_not_a_checkpoint()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "foreign.bin");
        var random = new byte[4096];
        new Random(1).NextBytes(random);
        File.WriteAllBytes(path, random);
        LoadFails(path).Problem.Should().Contain("not an Incrt checkpoint");

        File.WriteAllText(path, "{\"format\":\"some-other-format\",\"formatVersion\":1}");
        LoadFails(path).Problem.Should().Contain("not an Incrt checkpoint").And.Contain("JSON");

        // A well-formed container whose manifest is another format.
        File.WriteAllBytes(path, Container(1, "{\"format\":\"pytorch-state\",\"formatVersion\":1}"u8.ToArray()));
        LoadFails(path).Problem.Should().Contain("foreign manifest format 'pytorch-state'");
    }

    [Fact]
    public void A_newer_format_version_is_rejected_with_both_versions_named()
    {
        using var dir = new TempDirectory();
        var path = SaveSmall(dir);
        var bytes = File.ReadAllBytes(path);
        bytes[8] = 2;
        File.WriteAllBytes(path, bytes);
        LoadFails(path).Problem.Should().Contain("format version 2").And.Contain("version 1");

        File.WriteAllBytes(path, Container(1, "{\"format\":\"incrt-checkpoint\",\"formatVersion\":7}"u8.ToArray()));
        LoadFails(path).Problem.Should().Contain("manifest format version 7");
    }

    /// <summary>A container with a valid checksum around <paramref name="manifest"/> and empty sections.</summary>
    private static byte[] Container(int version, byte[] manifest)
    {
        var ms = new MemoryStream();
        var w = new BinaryWriter(ms);
        w.Write("INCRTCKP"u8.ToArray());
        w.Write(version);
        w.Write((long)manifest.Length);
        w.Write(manifest);
        w.Write(0L);
        w.Write(0L);
        w.Flush();
        var body = ms.ToArray();
        return body.Concat(SHA256.HashData(body)).ToArray();
    }

    [Fact]
    public void A_failed_save_leaves_the_previous_checkpoint_intact()
    {
        using var dir = new TempDirectory();
        var path = SaveSmall(dir);
        var before = File.ReadAllBytes(path);
        using var model = new IncrtClassifier(Small with { Seed = 99 });
        HeadSurgery.AddHead(model.GrowableLayers[0], null, HeadInit.Random);
        IncrtCheckpoint.FaultInjection = _ => throw new IOException("disk full (injected)");
        try
        {
            var act = () => IncrtCheckpoint.Save(path, model);
            act.Should().Throw<IOException>().WithMessage("*injected*");
        }
        finally
        {
            IncrtCheckpoint.FaultInjection = null;
        }
        File.ReadAllBytes(path).Should().Equal(before);
        Directory.GetFiles(dir.Path).Should().ContainSingle("the temporary file is removed");
        IncrtCheckpoint.Load(path).Model.Dispose();

        // And a successful save replaces it.
        IncrtCheckpoint.Save(path, model);
        var loaded = IncrtCheckpoint.Load(path);
        using var m = loaded.Model;
        loaded.HeadCounts.Should().Equal(2, 1);
    }

    [Fact]
    public void Loading_into_a_model_of_another_architecture_names_the_mismatch()
    {
        using var dir = new TempDirectory();
        var path = SaveSmall(dir);
        using var other = new IncrtClassifier(Small with { DModel = 32, HeadDim = 8 });
        var act = () => IncrtCheckpoint.LoadInto(path, other);
        var e = act.Should().Throw<CheckpointException>().Which;
        e.Problem.Should().Contain("architecture mismatch").And.Contain("DModel 16 in the file vs 32 in the model");
        e.Message.Should().Contain(path);

        using var same = new IncrtClassifier(Small with { });
        HeadSurgery.AddHead(same.GrowableLayers[1], null, HeadInit.Random);
        var loaded = IncrtCheckpoint.LoadInto(path, same);
        same.GrowableLayers.Select(l => l.HeadCount).Should().Equal(new[] { 1, 1 }, "the saved layout replaces the model's");
        loaded.Model.Should().BeSameAs(same);
    }

    [Fact]
    public void Restoring_into_the_wrong_optimizer_or_a_used_controller_is_a_clear_error()
    {
        using var dir = new TempDirectory();
        var path = SaveSmall(dir);
        var loaded = IncrtCheckpoint.Load(path);
        using var model = loaded.Model;
        var sgd = optim.SGD(model.parameters().ToArray(), 0.1);
        var act = () => loaded.RestoreOptimizer(sgd);
        act.Should().Throw<CheckpointException>().Which.Problem.Should().Contain("AdamW").And.Contain("SGD");

        var adamw = optim.AdamW(model.parameters().Take(3).ToArray());
        act = () => loaded.RestoreOptimizer(adamw);
        act.Should().Throw<CheckpointException>().Which.Problem.Should().Contain("Model.parameters()");

        using var used = new HeadController(model.GrowableLayers, null, Control);
        used.Step(0);
        var act2 = () => loaded.RestoreController(used);
        act2.Should().Throw<CheckpointException>().Which.Problem.Should().Contain("not been called");
    }
}
