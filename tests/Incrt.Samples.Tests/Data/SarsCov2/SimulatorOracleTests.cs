using FluentAssertions;
using Incrt.Tasks.Data.SarsCov2;
using Xunit;

namespace Incrt.Tests.Data.SarsCov2;

public class SimulatorOracleTests
{
    private static LineageCatalog Catalog => SarsCov2Data.Catalog;

    private static (IReadOnlyList<SarsCov2Class> Classes, SimulatorOracle Oracle) For(SarsCov2Task task)
    {
        var classes = new SarsCov2TaskBuilder(Catalog).GetClasses(task);
        return (classes, new SimulatorOracle(Catalog, classes));
    }

    [Theory]
    [InlineData(SarsCov2Task.Voc5)]
    [InlineData(SarsCov2Task.Omicron)]
    public void Every_lineage_s_clean_spike_is_given_its_own_class(SarsCov2Task task)
    {
        var (classes, oracle) = For(task);

        for (int c = 0; c < classes.Count; c++)
        {
            foreach (var lineage in classes[c].Lineages)
                oracle.Predict(Catalog.BuildSpike(lineage), SpikeSimulationOptions.Exact).Should().Be(c, $"{lineage} belongs to {classes[c].Label}");
        }
    }

    [Fact]
    public void Trimming_and_unknown_runs_over_indels_do_not_mislead_it()
    {
        // Long X runs next to Omicron's deletions and insertions (del69-70, del143-145, ins214EPE, ...) leave the
        // aligner free to move a gap; keep 1 and no background make the class certain, so every miss is the oracle's.
        var (classes, oracle) = For(SarsCov2Task.Omicron);
        var options = new SpikeSimulationOptions
        {
            MutationPresenceProbability = 1, BackgroundSubstitutionMean = 0, UnknownRunProbability = 1, MaxUnknownRunLength = 60,
            TrimProbability = 1,
        };
        var records = new SarsCov2TaskBuilder(Catalog, options).Simulate(SarsCov2Task.Omicron, perClass: 20, seed: 5);
        var labels = classes.Select(c => c.Label).ToList();

        records.Count(r => labels[oracle.Predict(r.Sequence, options)] != r.Label).Should().Be(0);
    }

    [Fact]
    public void Under_heavy_noise_it_stays_near_the_bayes_rate_and_errs_only_where_the_classes_overlap()
    {
        // keep 0.8 + 15 background substitutions + X runs: BA.2.12.1 is BA.2 plus two mutations, so when both are left
        // out (4% of BA.2.12.1 sequences) the likelihoods say BA.2, and every other class stays apart.
        var (classes, oracle) = For(SarsCov2Task.Omicron);
        var options = new SpikeSimulationOptions { MutationPresenceProbability = 0.8, BackgroundSubstitutionMean = 15, UnknownRunProbability = 0.8 };
        var records = new SarsCov2TaskBuilder(Catalog, options).Simulate(SarsCov2Task.Omicron, perClass: 30, seed: 11);
        var labels = classes.Select(c => c.Label).ToList();

        var misses = records.Select(r => (r.Label, Predicted: labels[oracle.Predict(r.Sequence, options)])).Where(p => p.Label != p.Predicted).ToList();

        misses.Count.Should().BeLessThanOrEqualTo(records.Count / 50, "the oracle knows the noise model");
        misses.Where(m => !(m.Label.StartsWith("BA.2", StringComparison.Ordinal) && m.Predicted.StartsWith("BA.2", StringComparison.Ordinal)))
            .Should().BeEmpty();
    }

    [Fact]
    public void A_class_s_likelihood_falls_when_its_defining_mutations_are_missing()
    {
        var (classes, oracle) = For(SarsCov2Task.Omicron);
        int ba2 = classes.Select(c => c.Label).ToList().IndexOf("BA.2"), ba2121 = classes.Select(c => c.Label).ToList().IndexOf("BA.2.12.1");
        var options = new SpikeSimulationOptions();

        var ll = oracle.ClassLogLikelihoods(Catalog.BuildSpike("BA.2.12.1"), options);
        var llReverted = oracle.ClassLogLikelihoods(Catalog.BuildSpike("BA.2"), options);

        ll[ba2121].Should().BeGreaterThan(ll[ba2] + 5, "L452Q and S704L present: a background hit on both exact alleles is very unlikely");
        llReverted[ba2].Should().BeGreaterThan(llReverted[ba2121], "both left out is a 0.05² event under BA.2.12.1 but the norm under BA.2");
        (llReverted[ba2] - llReverted[ba2121]).Should().BeApproximately(-2 * Math.Log(0.05), 0.2);
    }
}
