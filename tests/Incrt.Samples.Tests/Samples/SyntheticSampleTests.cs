using System.Text.Json;
using FluentAssertions;
using Xunit;

namespace Incrt.Tests.Samples;

/// <summary>Keeps the synthetic benchmark working: its --quick mode runs end to end in every test run.</summary>
public class SyntheticSampleTests
{
    [Fact]
    public void Quick_sweep_runs_and_reports_predicted_and_observed_heads()
    {
        var dir = Directory.CreateTempSubdirectory("incrt-synthetic-").FullName;
        try
        {
            int exit = Incrt.Synthetic.SyntheticApp.Run(new[] { "--quick", "--out", dir });

            exit.Should().Be(0);
            File.Exists(Path.Combine(dir, "results.csv")).Should().BeTrue();
            File.Exists(Path.Combine(dir, "heads.png")).Should().BeTrue();
            using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "results.json")));
            var runs = json.RootElement.GetProperty("Runs").EnumerateArray().ToList();
            runs.Should().HaveCount(2, "--quick is K 1,4 × one seed × one noise level");
            foreach (var run in runs)
            {
                run.GetProperty("PredictedHeads").GetInt32().Should().BeGreaterThan(0);
                run.GetProperty("ObservedHeads").GetInt32().Should().BeGreaterThan(0);
                // Sufficient is Theorem 1's λmax ≤ θ_w at the end: it must agree with the reported ratio λmax / θ_w.
                run.GetProperty("Sufficient").GetBoolean().Should().Be(run.GetProperty("EnergyRatio").GetDouble() <= 1);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
