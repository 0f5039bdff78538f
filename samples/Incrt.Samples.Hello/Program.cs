// Smoke sample: proves the native backend loads on this machine and prints what it runs on.
using TorchSharp;
using static TorchSharp.torch;

var device = args.Length > 0 ? new Device(args[0]) : (cuda.is_available() ? CUDA : CPU);
using var scope = NewDisposeScope();
var x = randn(4, 3, device: device, requires_grad: true);
var loss = (x * x).sum();
loss.backward();
Console.WriteLine($"torch (LibTorch) {__version__}");
Console.WriteLine($"device           {x.device}");
Console.WriteLine($"threads          {get_num_threads()}");
Console.WriteLine($"sum(x^2)         {loss.item<float>():F4}; grad check max|2x - dx| = {(x.grad! - 2 * x).abs().max().item<float>():E1}");
