using FluentAssertions;
using Xunit;
using static TorchSharp.torch;

namespace Incrt.Tests;

/// <summary>Runs on CUDA when the build uses the CUDA backend (-p:TorchBackend=cuda) and a device is present;
/// otherwise it is reported as skipped with the reason.</summary>
public class CudaTests
{
    [SkippableFact]
    public void Growth_training_and_the_controller_run_on_a_cuda_device()
    {
        Skip.IfNot(cuda.is_available(), "no CUDA device (or a CPU-only TorchSharp backend): build with -p:TorchBackend=cuda on a CUDA machine");
        using var scope = NewDisposeScope();
        var device = CUDA;
        using var model = new IncrtClassifier(new IncrtModelOptions(VocabSize: 30, MaxLength: 8, DModel: 16, HeadDim: 4, Dropout: 0), device);
        var optimizer = optim.AdamW(model.parameters().ToArray());
        using var controller = new HeadController(model.GrowableLayers, optimizer, new ControllerOptions { Interval = 1, ThetaW = 1e-9 });
        var ids = randint(3, 30, new long[] { 4, 8 }, device: device);
        var labels = randint(0, 2, new long[] { 4 }, device: device);
        for (int step = 0; step < 10; step++)
        {
            using var s = NewDisposeScope();
            optimizer.zero_grad();
            var loss = nn.functional.cross_entropy(model.forward(ids), labels);
            loss.backward();
            optimizer.step();
            controller.Step(step, loss.item<float>());
        }
        model.GrowableLayers[0].HeadCount.Should().BeGreaterThan(1);
        model.parameters().Should().OnlyContain(p => p.device.type == DeviceType.CUDA);
        controller.Basis(0).Device.type.Should().Be(DeviceType.CUDA);
    }
}
