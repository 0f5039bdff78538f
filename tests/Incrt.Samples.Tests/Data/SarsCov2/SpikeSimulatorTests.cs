using FluentAssertions;
using Incrt.Tasks.Data.SarsCov2;
using Xunit;
using Xunit.Abstractions;

namespace Incrt.Tests.Data.SarsCov2;

public class SpikeSimulatorTests(ITestOutputHelper output)
{
    private static LineageCatalog Catalog => SarsCov2Data.Catalog;

    [Fact]
    public void Same_seed_gives_identical_sequences_and_another_seed_different_ones()
    {
        var sim = new SpikeSimulator(Catalog);

        var a = sim.Simulate("BA.1", 20, seed: 7).Select(s => s.Sequence).ToList();
        var b = sim.Simulate("BA.1", 20, seed: 7).Select(s => s.Sequence).ToList();
        var c = sim.Simulate("BA.1", 20, seed: 8).Select(s => s.Sequence).ToList();

        a.Should().Equal(b);
        a.Should().NotEqual(c);
    }

    [Fact]
    public void Without_noise_the_simulated_spike_equals_the_built_lineage_spike()
    {
        var sim = new SpikeSimulator(Catalog, SpikeSimulationOptions.Exact);

        foreach (var lineage in new[] { "B.1.1.7", "B.1.617.2", "BA.1", "XBB.1.5" })
        {
            sim.Simulate(lineage, new Random(1)).Sequence.Should().Be(Catalog.BuildSpike(lineage));
        }
    }

    [Fact]
    public void Each_defining_mutation_is_present_at_rate_p_within_tolerance()
    {
        var sim = new SpikeSimulator(Catalog);
        var samples = sim.Simulate("BA.1", 1000, seed: 3);
        int present = samples.Sum(s => s.PresentMutations.Count), total = samples.Sum(s => s.PresentMutations.Count + s.AbsentMutations.Count);
        double rate = (double)present / total;
        output.WriteLine($"presence rate {rate:F4} over {total} mutation draws");

        total.Should().Be(1000 * Catalog.GetProfile("BA.1").Count);
        rate.Should().BeApproximately(0.95, 0.01);
    }

    [Fact]
    public void Presence_rate_is_visible_in_the_sequences_themselves()
    {
        var options = SpikeSimulationOptions.Exact with { MutationPresenceProbability = 0.7 };
        var seqs = new SpikeSimulator(Catalog, options).Simulate("B.1.617.2", 2000, seed: 5).Select(s => s.Sequence).ToList();

        double withP681R = seqs.Count(s => s.Contains("QTNSRRRAR")) / 2000.0;
        double withWildType = seqs.Count(s => s.Contains("QTNSPRRAR")) / 2000.0;

        withP681R.Should().BeApproximately(0.7, 0.035);
        (withP681R + withWildType).Should().Be(1.0);
    }

    [Fact]
    public void About_half_of_the_sequences_hold_one_run_of_1_to_12_X()
    {
        var samples = new SpikeSimulator(Catalog).Simulate("P.1", 2000, seed: 11);
        double fraction = samples.Count(s => s.Sequence.Contains('X')) / 2000.0;
        output.WriteLine($"X-run fraction {fraction:F3}");

        fraction.Should().BeApproximately(0.5, 0.04);
        foreach (var s in samples.Where(s => s.UnknownRunLength > 0))
        {
            s.UnknownRunLength.Should().BeInRange(1, 12);
            s.Sequence.Count(ch => ch == 'X').Should().Be(s.UnknownRunLength);
            s.Sequence.Should().Contain(new string('X', s.UnknownRunLength), "the X residues form one run");
        }
    }

    [Fact]
    public void Background_substitutions_follow_the_configured_Poisson_mean()
    {
        var samples = new SpikeSimulator(Catalog).Simulate("B.1.1.7", 2000, seed: 13);
        double mean = samples.Average(s => s.BackgroundSubstitutions);

        mean.Should().BeApproximately(2.0, 0.12);
        samples.Select(s => s.BackgroundSubstitutions).Distinct().Count().Should().BeGreaterThan(4);
    }

    [Fact]
    public void Lengths_stay_within_the_real_range_1236_to_1278_and_ends_are_trimmed_by_at_most_15()
    {
        var sim = new SpikeSimulator(Catalog);
        var lengths = new List<int>();
        foreach (var lineage in new[] { "B.1.1.7", "B.1.351", "P.1", "B.1.617.2", "BA.1", "BA.2", "XBB.1.5", "BA.2.86" })
        {
            foreach (var s in sim.Simulate(lineage, 300, seed: 17))
            {
                s.TrimmedStart.Should().BeInRange(0, 15);
                s.TrimmedEnd.Should().BeInRange(0, 15);
                lengths.Add(s.Sequence.Length);
            }
        }
        output.WriteLine($"lengths {lengths.Min()}..{lengths.Max()}");

        lengths.Should().OnlyContain(n => n >= 1236 && n <= 1278);
        lengths.Min().Should().BeLessThan(1250, "trimming happens");
    }

    [Fact]
    public void Out_of_range_options_are_rejected()
    {
        var act = () => new SpikeSimulator(Catalog, new SpikeSimulationOptions { MutationPresenceProbability = 1.5 });

        act.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*MutationPresenceProbability*");
    }

    [Fact]
    public void A_multi_residue_deletion_is_kept_or_dropped_as_a_whole()
    {
        var options = SpikeSimulationOptions.Exact with { MutationPresenceProbability = 0.5 };
        var samples = new SpikeSimulator(Catalog, options).Simulate("B.1.351", 400, seed: 19);

        foreach (var s in samples)
        {
            s.PresentMutations.Count(m => m.Kind == SpikeMutationKind.Deletion).Should().BeOneOf(0, 3);
        }
        samples.Select(s => s.Sequence.Length).Distinct().Should().BeEquivalentTo([1270, 1273]);
    }
}
