using FluentAssertions;
using Incrt.Attention;
using Incrt.Surgery;
using TorchSharp;
using TorchSharp.Modules;
using Incrt.Tests.Data;
using Xunit;
using static TorchSharp.torch;

namespace Incrt.Tests.Surgery;

/// <summary><see cref="AttentionOptions.ReserveHeads"/>: grows write into spare room behind the parameters and the AdamW
/// moments instead of copying every head, and no value differs from a layer without it.</summary>
public class HeadCapacityTests
{
    private static nint Start(Tensor t)
    {
        using var storage = t.storage<float>();
        return storage.data_ptr();
    }

    private static Tensor Moment(optim.Optimizer optimizer, int parameter) =>
        ((AdamW.State)((OptimizerHelper)optimizer).state_dict().State[parameter]).exp_avg;

    [Fact]
    public void A_second_grow_writes_into_the_room_of_the_first_and_keeps_existing_heads_and_moments_bit_identical()
    {
        using var scope = NewDisposeScope();
        using var layer = new GrowableMultiHeadAttention(new AttentionOptions(DModel: 16, HeadDim: 4, InitialHeads: 2, MaxHeads: 16, Seed: 1, ReserveHeads: true));
        var parameters = layer.parameters().ToArray();
        using var optimizer = optim.AdamW(parameters, lr: 1e-2);
        optimizer.zero_grad();
        layer.forward(randn(2, 5, 16)).square().mean().backward();
        optimizer.step();
        int w = Array.FindIndex(parameters, p => p.Handle == layer.PerHeadParameters.First().Handle);

        HeadSurgery.AddHead(layer, optimizer, HeadInit.Random);          // 2 → 3 heads: allocates room for 6
        var weights = layer.PerHeadParameters.First().detach().clone();
        var moment = Moment(optimizer, w).clone();
        nint weightStart = Start(layer.PerHeadParameters.First()), momentStart = Start(Moment(optimizer, w));

        HeadSurgery.AddHead(layer, optimizer, HeadInit.Random);          // 3 → 4: inside the room
        Start(layer.PerHeadParameters.First()).Should().Be(weightStart, "the parameter must grow in place");
        Start(Moment(optimizer, w)).Should().Be(momentStart, "the moment must grow in place");
        layer.PerHeadParameters.First().detach().narrow(0, 0, 3).equal(weights).all().item<bool>().Should().BeTrue();
        Moment(optimizer, w).narrow(0, 0, 3).equal(moment).all().item<bool>().Should().BeTrue();
        Moment(optimizer, w)[3].abs().max().item<float>().Should().Be(0, "a new head's moments are zero");

        HeadSurgery.RemoveHeads(layer, optimizer, new[] { 0 });         // a prune allocates afresh (no room)
        var kept = layer.PerHeadParameters.First().detach().clone();
        HeadSurgery.AddHead(layer, optimizer, HeadInit.Random);
        layer.PerHeadParameters.First().detach().narrow(0, 0, 3).equal(kept).all().item<bool>().Should().BeTrue();
        optimizer.zero_grad();
        layer.forward(randn(2, 5, 16)).square().mean().backward();
        optimizer.step();                                                // still trains on the views
        layer.HeadCount.Should().Be(4);
    }

    [Theory]
    [InlineData("AdamW")]
    [InlineData("Adam")]
    [InlineData("SGD")]
    public void Reserved_room_changes_no_value_through_grows_prunes_training_and_a_save_and_load(string optimizerName)
    {
        using var scope = NewDisposeScope();
        (float[] Weights, float Loss) Run(bool reserve, string path)
        {
            using var layer = new GrowableMultiHeadAttention(new AttentionOptions(DModel: 16, HeadDim: 4, InitialHeads: 1, MaxHeads: 8, Seed: 3, ReserveHeads: reserve));
            var parameters = layer.parameters().ToArray();
            using optim.Optimizer optimizer = optimizerName switch
            {
                "AdamW" => optim.AdamW(parameters, lr: 1e-2),
                "Adam" => optim.Adam(parameters, lr: 1e-2),
                _ => optim.SGD(parameters, 1e-2, momentum: 0.9),
            };
            using var g = new Generator(5);
            float loss = 0;
            for (int step = 0; step < 24; step++)
            {
                using var s = NewDisposeScope();
                optimizer.zero_grad();
                var l = layer.forward(randn(new long[] { 2, 5, 16 }, generator: g)).square().mean();
                l.backward();
                optimizer.step();
                loss = l.item<float>();
                if (step % 4 == 1) HeadSurgery.AddHead(layer, optimizer, HeadInit.Random);          // grows in a row …
                if (step % 8 == 7) HeadSurgery.RemoveHeads(layer, optimizer, new[] { 1 });         // … and prunes between
            }
            layer.save(path);
            using var copy = new GrowableMultiHeadAttention(new AttentionOptions(DModel: 16, HeadDim: 4, InitialHeads: layer.HeadCount, MaxHeads: 8));
            copy.load(path);
            copy.PerHeadParameters.Zip(layer.PerHeadParameters).Should().OnlyContain(p => p.First.equal(p.Second).all().item<bool>(), "a saved view loads back");
            return (layer.PerHeadParameters.SelectMany(p => p.detach().flatten().data<float>().ToArray()).ToArray(), loss);
        }

        using var dir = new TempDirectory();
        var plain = Run(false, System.IO.Path.Combine(dir.Path, "plain.dat"));
        var reserved = Run(true, System.IO.Path.Combine(dir.Path, "reserved.dat"));
        reserved.Weights.Should().Equal(plain.Weights, "the room changes where heads live, not what they hold");
        reserved.Loss.Should().Be(plain.Loss);
    }
}
