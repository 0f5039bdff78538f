using FluentAssertions;
using Incrt.Attention;
using Incrt.Surgery;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace Incrt.Tests.Surgery;

/// <summary>Grows write into spare room behind the parameters and the AdamW moments instead of copying every head.</summary>
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
        using var layer = new GrowableMultiHeadAttention(new AttentionOptions(DModel: 16, HeadDim: 4, InitialHeads: 2, MaxHeads: 16, Seed: 1));
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
}
