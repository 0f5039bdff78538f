// Incrt benchmarks: INCRT's growable attention against TorchSharp's fixed nn.MultiheadAttention, in one process.
// Usage: dotnet run -c Release --project bench/Incrt.Benchmarks -- [--quick] [--tiny] [--case NAME[,NAME]] [--threads N[,N]]
//        [--steps N] [--heads H[,H]] [--out DIR]   (--heads restricts the H grid of train/controller/surgery)
// Cases: train, controller, surgery, efficiency, soak, e2e (default: all; efficiency reuses train's timings).
// `-- --help` lists every option (BenchmarkCommandLine); see BenchmarkApp for the exit codes.
return Incrt.Benchmarks.BenchmarkApp.Run(args, Console.Out);
