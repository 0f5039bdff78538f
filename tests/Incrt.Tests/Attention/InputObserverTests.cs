using System.Text.Json;
using FluentAssertions;
using Incrt.Attention;
using Incrt.Control;
using Xunit;
using static TorchSharp.torch;

namespace Incrt.Tests.Attention;

public class InputObserverTests
{
    private static GrowableMultiHeadAttention Layer() => new(new AttentionOptions(DModel: 8, HeadDim: 4, MaxHeads: 4, Seed: 1));

    [Fact]
    public void An_input_observer_sees_every_forward_until_its_handle_is_disposed()
    {
        using var layer = Layer();
        var seen = new List<long[]>();
        var handle = layer.RegisterInputObserver((x, mask) => seen.Add(x.shape));
        layer.forward(randn(2, 5, 8));
        layer.forward(randn(3, 4, 8), zeros(new long[] { 3, 4 }, ScalarType.Bool));
        handle.Dispose();
        layer.forward(randn(1, 2, 8));
        seen.Should().HaveCount(2);
        seen[1].Should().Equal(3, 4, 8);
    }

    [Fact]
    public void A_recorder_keeps_the_last_input_beyond_the_step_scope_and_ignores_forwards_while_paused()
    {
        using var layer = Layer();
        using var recorder = new LayerInputRecorder(layer);
        recorder.Input.Should().BeNull();
        var kept = randn(2, 3, 8);
        using (var scope = NewDisposeScope())
        {
            layer.forward(kept.clone(), ones(new long[] { 2, 3 }, ScalarType.Bool).logical_not());
        }
        recorder.Input!.allclose(kept).Should().BeTrue("the recorded input outlives the caller's dispose scope");
        recorder.KeyPaddingMask!.any().item<bool>().Should().BeFalse();
        using (recorder.Pause())
        {
            recorder.IsPaused.Should().BeTrue();
            layer.forward(randn(5, 3, 8));
        }
        recorder.Input!.shape[0].Should().Be(2, "a paused recorder does not record");
        recorder.Dispose();
        recorder.Input.Should().BeNull();
        layer.forward(randn(1, 3, 8)); // unregistered: nothing to call
    }

    [Fact]
    public void Rules_see_the_last_training_input_not_the_probe_batch()
    {
        using var layer = Layer();
        var rule = new SpyRule();
        using var controller = new HeadController(new[] { layer }, null, new ControllerOptions { Interval = 1 },
            rules: (_, _) => new HeadRuleSet(rule, null));
        var probeInput = full(new long[] { 7, 3, 8 }, 0.5f);
        controller.LossProbe = () => { layer.forward(probeInput); return 1.0; };
        var training = randn(2, 3, 8);
        layer.forward(training);
        controller.Step(0, 1.0);
        controller.Step(1, 1.0);
        rule.InputRows.Should().Equal(2, 2);   // the probe ran in between, with 7 rows
        rule.Probes.Should().Be(2);
    }

    /// <summary>A growth rule that probes the loss and notes the batch size of the input it was shown.</summary>
    private sealed class SpyRule : IGrowthRule
    {
        public List<long> InputRows { get; } = new();
        public int Probes { get; private set; }
        public string Name => "spy";
        public bool Stopped => false;
        public IReadOnlyCollection<long> HeadsOnTrial => Array.Empty<long>();
        public RuleReadings Readings => RuleReadings.Empty;

        public RuleVerdict ProposeGrowth(LayerCall call)
        {
            InputRows.Add(call.Input!.shape[0]);
            call.ProbeLoss(Array.Empty<int>());
            Probes++;
            return RuleVerdict.None();
        }

        public void ObserveStep(long step, double loss) { }
        public void OnHeadAdded(LayerCall call, int index, long headId, bool byThisRule) { }
        public void OnHeadRemoved(LayerCall call, int index, long headId, bool byThisRule) { }
        public JsonElement ExportState() => JsonSerializer.SerializeToElement(0);
        public void ImportState(JsonElement state) { }
        public void Dispose() { }
    }
}
