using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Incrt.Tests;

public class TorchSmokeTests
{
    [Fact]
    public void Torch_runs_forward_and_backward_through_attention_and_Adam()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        var attn = nn.MultiheadAttention(8, 2); // sequence-first: (T, B, d)
        var head = nn.Linear(8, 1);
        var parameters = attn.parameters().Concat(head.parameters()).ToArray();
        var opt = optim.Adam(parameters, lr: 1e-2);
        var x = randn(5, 4, 8);
        var y = randn(4, 1);
        float first = 0, last = 0;
        for (int i = 0; i < 30; i++)
        {
            using var step = NewDisposeScope();
            opt.zero_grad();
            var (o, _) = attn.call(x, x, x, null, false, null);
            var loss = nn.functional.mse_loss(head.call(o.mean([0])), y);
            loss.backward();
            opt.step();
            if (i == 0) first = loss.item<float>();
            last = loss.item<float>();
        }
        last.Should().BeLessThan(first);
    }

    [Fact]
    public void LibTorchSharp_is_loaded_from_the_patched_output_copy_on_the_first_attempt()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var _ = ones(1); // forces native initialisation
        var maps = File.ReadAllLines("/proc/self/maps").Where(l => l.EndsWith("libLibTorchSharp.so")).Select(l => l[(l.IndexOf('/'))..]).Distinct().ToArray();
        maps.Should().ContainSingle();
        var expected = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Path.GetFullPath(maps[0]).Should().Be(Path.GetFullPath(expected), "the fallback copy under cpu/ must not be the one in use");
    }
}
