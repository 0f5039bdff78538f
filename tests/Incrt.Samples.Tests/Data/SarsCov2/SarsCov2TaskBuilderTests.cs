using FluentAssertions;
using Incrt.Tasks.Data.SarsCov2;
using Xunit;
using Xunit.Abstractions;

namespace Incrt.Tests.Data.SarsCov2;

public class SarsCov2TaskBuilderTests(ITestOutputHelper output)
{
    private static SarsCov2TaskBuilder Builder => new(SarsCov2Data.Catalog);

    [Fact]
    public void Voc5_has_five_balanced_classes_split_80_10_10_per_class()
    {
        var data = Builder.Build("voc5", perClass: 50, seed: 1);

        data.Labels.Should().Equal("Alpha", "Beta", "Gamma", "Delta", "Omicron");
        data.All.Should().HaveCount(250);
        foreach (var label in data.Labels)
        {
            data.Train.Count(r => r.Label == label).Should().Be(40);
            data.Validation.Count(r => r.Label == label).Should().Be(5);
            data.Test.Count(r => r.Label == label).Should().Be(5);
        }
        data.All.Select(r => r.Id).Should().OnlyHaveUniqueItems();
        data.All.Should().OnlyContain(r => AminoAcids.IndexOfInvalid(r.Sequence) < 0);
    }

    [Fact]
    public void Building_twice_with_the_same_seed_gives_the_same_split_and_sequences()
    {
        var a = Builder.Build(SarsCov2Task.Voc5, 20, seed: 4);
        var b = Builder.Build(SarsCov2Task.Voc5, 20, seed: 4);
        var c = Builder.Build(SarsCov2Task.Voc5, 20, seed: 5);

        a.Train.Should().Equal(b.Train);
        a.Test.Should().Equal(b.Test);
        a.Test.Select(r => r.Id).Should().NotEqual(c.Test.Select(r => r.Id));
    }

    [Fact]
    public void Class_sequences_carry_their_variants_signatures()
    {
        var data = Builder.Build("voc5", 100, seed: 2);
        double Rate(string label, string motif) => data.All.Where(r => r.Label == label).Count(r => r.Sequence.Contains(motif)) / 100.0;

        Rate("Alpha", "QTNSHRRAR").Should().BeGreaterThan(0.8, "Alpha P681H");
        Rate("Delta", "QTNSRRRAR").Should().BeGreaterThan(0.8, "Delta P681R");
        Rate("Gamma", "PGQTGTIADYN").Should().BeGreaterThan(0.8, "Gamma K417T");
        Rate("Beta", "QTNSPRRAR").Should().BeGreaterThan(0.8, "Beta keeps P681");
    }

    [Fact]
    public void Who_task_has_one_class_per_WHO_label_in_the_table()
    {
        var classes = Builder.GetClasses(SarsCov2Task.Who);
        foreach (var c in classes) output.WriteLine($"{c.Label}: {string.Join(", ", c.Lineages)}");

        classes.Select(c => c.Label).Should().Equal(SarsCov2Data.Catalog.WhoLabels).And.HaveCount(13);
        classes.Single(c => c.Label == "Kappa").Lineages.Should().Equal("Nextstrain 21B");
        classes.Single(c => c.Label == "Alpha").Lineages.Should().BeEquivalentTo(["B.1.1.7", "B.1.1.7+E484K"]);
        var data = Builder.Build("who", 10, seed: 3);
        data.All.GroupBy(r => r.Label).Should().HaveCount(13).And.OnlyContain(g => g.Count() == 10);
    }

    [Fact]
    public void Omicron_task_groups_sub_lineages()
    {
        var classes = Builder.GetClasses(SarsCov2Task.Omicron);
        foreach (var c in classes) output.WriteLine($"{c.Label}: {string.Join(", ", c.Lineages)}");

        classes.Select(c => c.Label).Should().Equal("BA.1", "BA.2", "BA.2.12.1", "BA.4/5", "XBB", "BA.2.86");
        classes.Single(c => c.Label == "BA.4/5").Lineages.Should().Equal("BA.4", "BA.5");
        classes.Single(c => c.Label == "XBB").Lineages.Should().Contain(["XBB", "XBB.1", "XBB.1.5", "XBB.1.16"]);
        var data = Builder.Build("omicron", 10, seed: 9);
        data.All.Should().HaveCount(60);
        data.All.Select(r => r.Id).Should().Contain("omicron-BA.4_5-00001");
    }

    [Fact]
    public void Unknown_task_names_are_rejected()
    {
        var act = () => SarsCov2TaskBuilder.ParseTask("delta-only");

        act.Should().Throw<ArgumentException>().WithMessage("*delta-only*voc5*");
    }
}
