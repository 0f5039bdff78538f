using FluentAssertions;
using Incrt.Tasks.Data.SarsCov2;
using Xunit;

namespace Incrt.Tests.Data.SarsCov2;

public class SpikeSimulationRangesTests
{
    [Fact]
    public void Sampled_settings_stay_inside_the_ranges_and_keep_trimming_from_the_base_options()
    {
        var ranges = new SpikeSimulationRanges();
        var random = new Random(3);
        var baseOptions = new SpikeSimulationOptions { TrimProbability = 0.3 };

        var drawn = Enumerable.Range(0, 500).Select(_ => ranges.Sample(random, baseOptions)).ToList();

        drawn.Should().OnlyContain(o => o.MutationPresenceProbability >= ranges.MinPresence && o.MutationPresenceProbability <= ranges.MaxPresence);
        drawn.Should().OnlyContain(o => o.BackgroundSubstitutionMean >= ranges.MinBackgroundMean && o.BackgroundSubstitutionMean <= ranges.MaxBackgroundMean);
        drawn.Should().OnlyContain(o => o.UnknownRunProbability >= 0 && o.UnknownRunProbability <= 1);
        drawn.Should().OnlyContain(o => o.MaxUnknownRunLength >= 12 && o.MaxUnknownRunLength <= 60 && o.TrimProbability == 0.3);
        drawn.Max(o => o.BackgroundSubstitutionMean).Should().BeGreaterThan(15, "the range covers the grid's largest shift");
        drawn.Min(o => o.MutationPresenceProbability).Should().BeLessThan(0.8, "the range covers the grid's lowest keep-probability");
    }

    [Fact]
    public void An_empty_or_out_of_range_interval_is_rejected()
    {
        var act = () => new SpikeSimulationRanges { MinPresence = 0.9, MaxPresence = 0.8 }.Validate();
        var act2 = () => new SpikeSimulationRanges { MaxUnknownRunProbability = 1.5 }.Validate();

        act.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*MinPresence*");
        act2.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Augmentation_changes_only_the_training_split_and_keeps_the_split_sizes()
    {
        var plain = new SarsCov2TaskBuilder(SarsCov2Data.Catalog).Build(SarsCov2Task.Voc5, 30, seed: 7);
        var augmented = new SarsCov2TaskBuilder(SarsCov2Data.Catalog) { TrainingAugmentation = new SpikeSimulationRanges() }.Build(SarsCov2Task.Voc5, 30, seed: 7);

        augmented.Train.Should().HaveCount(plain.Train.Count);
        augmented.Validation.Select(r => r.Id).Should().Equal(plain.Validation.Select(r => r.Id), "the split is decided before simulating");
        augmented.Test.Select(r => r.Id).Should().Equal(plain.Test.Select(r => r.Id));
        augmented.Train.Select(r => r.Sequence).Should().NotEqual(plain.Train.Select(r => r.Sequence));
    }

    [Fact]
    public void An_unsplit_test_set_has_every_class_and_its_own_settings()
    {
        var clean = new SarsCov2TaskBuilder(SarsCov2Data.Catalog, SpikeSimulationOptions.Exact).Simulate(SarsCov2Task.Voc5, 6, seed: 2);

        clean.Should().HaveCount(30);
        clean.GroupBy(r => r.Label).Should().HaveCount(5).And.OnlyContain(g => g.Count() == 6);
        clean.Should().OnlyContain(r => !r.Sequence.Contains('X'), "the clean set has no unknown runs");
        clean.Where(r => r.Label == "Gamma").Should().OnlyContain(r => r.Sequence.Length == 1273, "Gamma has no indels and the clean set no trimming");
    }
}
