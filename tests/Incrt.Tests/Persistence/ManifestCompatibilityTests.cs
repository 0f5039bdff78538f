using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using FluentAssertions;
using Incrt.Control;
using Incrt.Models;
using Incrt.Persistence;
using Incrt.Tests.Data;
using TorchSharp;
using Xunit;

namespace Incrt.Tests.Persistence;

/// <summary>Checkpoints written before a field existed must still load: the manifest reader fills the field's default, or,
/// where that default differs from what the library did before the field existed, the earlier behaviour.</summary>
public class ManifestCompatibilityTests
{
    private static T RoundTripWithout<T>(T value, params string[] removed)
    {
        var node = JsonSerializer.SerializeToNode(value, ManifestJson.Options)!.AsObject();
        foreach (var key in removed) node.Remove(key).Should().BeTrue($"the manifest writes '{key}' today");
        return JsonSerializer.Deserialize<T>(node.ToJsonString(), ManifestJson.Options)!;
    }

    [Fact]
    public void Model_options_from_before_attention_dropout_load_with_attention_dropout_following_dropout()
    {
        var written = new IncrtModelOptions(VocabSize: 50, MaxLength: 16, DModel: 32, HeadDim: 8, Dropout: 0.2,
            Pooling: Pooling.MaskedMean, Classes: 3, Seed: 9, AttentionDropout: 0.0);

        var read = RoundTripWithout(written, "attentionDropout");

        read.Should().Be(written with { AttentionDropout = null });
        read.Attention(0, null).Dropout.Should().Be(0.2, "a missing attention dropout means 'same as Dropout', as before the field existed");
    }

    [Fact]
    public void Controller_options_from_before_leave_one_out_pruning_load_with_its_defaults()
    {
        var written = new ControllerOptions { Prune = PruneStatistic.MinorDirection, LeaveOneOutRatio = 0.5, LeaveOneOutWindow = 3 };

        var read = RoundTripWithout(written, "leaveOneOutRatio", "leaveOneOutWindow", "leaveOneOutAgeGuard");

        var defaults = new ControllerOptions();
        read.Prune.Should().Be(PruneStatistic.MinorDirection);
        read.LeaveOneOutRatio.Should().Be(defaults.LeaveOneOutRatio);
        read.LeaveOneOutWindow.Should().Be(defaults.LeaveOneOutWindow);
        read.LeaveOneOutAgeGuard.Should().Be(defaults.LeaveOneOutAgeGuard);
    }

    [Fact]
    public void A_checkpoint_from_before_bounded_prune_checks_resumes_with_unbounded_checks()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "old.incrt");
        SaveWithLossAwareController(path);
        IncrtCheckpoint.Load(path).ControllerOptions!.LossAware.PruneProbeHeads.Should().Be(4, "today's checkpoints keep today's setting");

        RewriteManifest(path, m => m["controller"]!["options"]!["lossAware"]!.AsObject().Remove("pruneProbeHeads").Should().BeTrue());

        IncrtCheckpoint.Load(path).ControllerOptions!.LossAware.PruneProbeHeads.Should()
            .BeNull("a checkpoint written before the bound existed was trained with every head masked per check");
    }

    [Fact]
    public void A_checkpoint_from_before_spaced_out_prune_checks_resumes_checking_every_PruneEverySteps()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "old.incrt");
        SaveWithLossAwareController(path);
        IncrtCheckpoint.Load(path).ControllerOptions!.LossAware.MaxPruneEverySteps.Should().Be(3200, "today's checkpoints keep today's setting");

        RewriteManifest(path, m => m["controller"]!["options"]!["lossAware"]!.AsObject().Remove("maxPruneEverySteps").Should().BeTrue());

        var read = IncrtCheckpoint.Load(path).ControllerOptions!.LossAware;
        read.MaxPruneEverySteps.Should().BeNull("a checkpoint written before checks spaced out was trained with a check every PruneEverySteps");
        read.PruneProbeHeads.Should().Be(4, "the other upgrade only applies when its own field is missing");
    }

    /// <summary>Saves a small classifier with today's loss-aware controller to <paramref name="path"/>.</summary>
    private static void SaveWithLossAwareController(string path)
    {
        using var model = new IncrtClassifier(new IncrtModelOptions(VocabSize: 20, MaxLength: 8, DModel: 16, HeadDim: 4, Classes: 2, Seed: 1));
        var opt = torch.optim.AdamW(model.parameters().ToArray(), lr: 1e-3);
        using var controller = new HeadController(model.GrowableLayers, opt, ControllerPresets.LossAware, model: model);
        IncrtCheckpoint.Save(path, model, opt, controller);
    }

    /// <summary>Edits the manifest of a checkpoint file and writes it back with a valid checksum.</summary>
    private static void RewriteManifest(string path, Action<JsonNode> edit)
    {
        var data = File.ReadAllBytes(path);
        const int header = 12;                               // signature (8) + format version (4)
        long manifestLength = BinaryPrimitives.ReadInt64LittleEndian(data.AsSpan(header, 8));
        var manifest = JsonNode.Parse(data.AsSpan(header + 8, (int)manifestLength))!;
        edit(manifest);
        var bytes = System.Text.Encoding.UTF8.GetBytes(manifest.ToJsonString());
        var rest = data.AsSpan(header + 8 + (int)manifestLength, data.Length - header - 8 - (int)manifestLength - 32);
        using var output = new MemoryStream();
        output.Write(data.AsSpan(0, header));
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(length, bytes.Length);
        output.Write(length);
        output.Write(bytes);
        output.Write(rest);
        output.Write(SHA256.HashData(output.ToArray()));
        File.WriteAllBytes(path, output.ToArray());
    }
}
