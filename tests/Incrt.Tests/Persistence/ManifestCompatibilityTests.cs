using System.Text.Json;
using System.Text.Json.Nodes;
using FluentAssertions;
using Incrt.Control;
using Incrt.Models;
using Incrt.Persistence;
using Xunit;

namespace Incrt.Tests.Persistence;

/// <summary>Checkpoints written before a field existed must still load: the manifest reader fills the field's default.</summary>
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
}
