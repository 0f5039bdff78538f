// Planted tasks with a known minimal head count (issue 14, docs/theory.md §8): for each family, K and seed, the fixed-H
// curve H = 1 … 2K shows the knee (the measured minimal head count) and INCRT, grown from one head, shows where the
// controller lands.
//
//   dotnet run -c Release --project samples/Incrt.Planted -- --workers 2          # full sweep (both families)
//   dotnet run -c Release --project samples/Incrt.Planted -- --quick              # smoke run
//   dotnet run -c Release --project samples/Incrt.Planted -- --help               # every option
using System.Diagnostics;
using System.Globalization;
using Incrt.Planted;
using Incrt.Samples.Common;
using static TorchSharp.torch;

return PlantedApp.Run(args);

namespace Incrt.Planted
{
    /// <summary>The sweep as a callable entry point (the console app and the --quick test both use it).</summary>
    public static class PlantedApp
    {
        /// <summary>Parses <paramref name="args"/> and runs the sweep. Returns 0, or 2 on a bad option (one
        /// <c>error:</c> line naming it on <paramref name="error"/>; nothing is written).</summary>
        public static int Run(string[] args, TextWriter? output = null, TextWriter? error = null)
        {
            var log = output ?? Console.Out;
            var err = error ?? Console.Error;
            return SampleCommandLine.Invoke(PlantedCommandLine.Create(s => Sweep(s, log, err), err, args), args, log, err);
        }

        private static int Sweep(PlantedSettings s, TextWriter log, TextWriter err)
        {
            CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
            CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
            Device device;
            try { device = SampleRuntime.Configure(s.Device, s.Threads, 0); }
            catch (ArgumentException e) { err.WriteLine($"error: {e.Message}"); return 2; }
            log.WriteLine($"INCRT planted tasks: {string.Join(',', s.Families.Select(PlantedSweep.Name))} × K {string.Join(',', s.Ks)} × seeds {string.Join(',', s.Seeds)}; " +
                $"fixed H = 1…{s.FixedFactor}K{(s.Fixed ? "" : " (skipped)")}, INCRT{(s.Incrt ? "" : " (skipped)")}; d_model {s.DModel}, head_dim {s.HeadDim}, " +
                $"{s.Steps} steps (INCRT {s.IncrtStepCount}) × {s.BatchSize}, lr {s.LearningRate}, length {s.Length} (segment size {s.SegmentSize}), values {s.Values}; workers {s.Workers} × {get_num_threads()} thread(s), device {device}, out {s.Out}");
            var clock = Stopwatch.StartNew();
            if (s.Shard is not null)
            {
                PlantedSweep.Run(s, device, log); // a worker: outcomes go to --outcomes, the parent writes the report
                return 0;
            }
            var runs = PlantedSweep.Run(s, device, log, partial => PlantedReport.Write(s, partial, clock.Elapsed.TotalSeconds));
            PlantedReport.Write(s, runs, clock.Elapsed.TotalSeconds);
            log.WriteLine();
            log.WriteLine(PlantedReport.Table(s, runs));
            log.WriteLine($"wrote {Path.Combine(s.Out, "results.json")}, knee.md, knee.png in {clock.Elapsed:h\\:mm\\:ss}");
            return 0;
        }
    }
}
