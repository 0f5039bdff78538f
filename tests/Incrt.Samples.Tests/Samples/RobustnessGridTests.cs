using FluentAssertions;
using Incrt.SarsCov2;
using Incrt.Samples.Common;
using Incrt.Tasks.Data.SarsCov2;
using Incrt.Tests.Data.SarsCov2;
using Xunit;

namespace Incrt.Tests.Samples;

public class RobustnessGridTests
{
    [Fact]
    public void The_grid_spans_the_shifts_the_issue_asks_for_plus_a_clean_set()
    {
        var settings = RobustnessGrid.Settings.Select(s => s.Options).ToList();

        settings.Select(o => o.MutationPresenceProbability).Should().Contain([0.8, 0.9, 1.0]);
        settings.Select(o => o.BackgroundSubstitutionMean).Should().Contain([0, 5, 10, 15]);
        settings.Select(o => o.UnknownRunProbability).Should().Contain([0, 0.8]);
        settings.Should().Contain(SpikeSimulationOptions.Exact);
        RobustnessGrid.Settings.Select(s => s.Name).Should().OnlyHaveUniqueItems();
    }

    [Fact]
    public void Each_set_is_simulated_with_its_own_seed_and_scored_per_model()
    {
        var sets = RobustnessGrid.Build(SarsCov2Data.Catalog, SarsCov2Task.Voc5, perClass: 2, seed: 1);

        sets.Should().HaveCount(RobustnessGrid.Settings.Count).And.OnlyContain(s => s.Records.Count == 10);
        sets[0].Records.Select(r => r.Sequence).Should().NotEqual(sets[5].Records.Select(r => r.Sequence));
        string[] labels = ["Alpha", "Beta", "Gamma", "Delta", "Omicron"];
        var row = RobustnessGrid.Evaluate("always Alpha", sets, records =>
        {
            var confusion = new long[5, 5];
            foreach (var r in records) confusion[Array.IndexOf(labels, r.Label), 0]++;
            return ClassificationMetrics.From(labels, confusion);
        });
        row.Metrics.Should().HaveCount(sets.Count).And.OnlyContain(m => Math.Abs(m.Accuracy - 0.2) < 1e-12);
        RobustnessGrid.Table(sets, [row]).Should().Contain("always Alpha").And.Contain("worst").And.Contain("0.067");
    }
}
