using FluentAssertions;
using Incrt.Tasks.Data.SarsCov2;
using Xunit;
using Xunit.Abstractions;

namespace Incrt.Tests.Data.SarsCov2;

/// <summary>Every simulated lineage carries the spike mutations of its whole ancestry (issue 18, part 1).</summary>
public class LineageAncestryTests(ITestOutputHelper output)
{
    private static LineageCatalog Catalog => SarsCov2Data.Catalog;

    private static IEnumerable<string> ProfileNames(string lineage) => Catalog.GetProfile(lineage).Select(m => m.Name);

    public static TheoryData<string> Tasks => new() { "voc5", "who", "omicron" };

    [Theory]
    [MemberData(nameof(Tasks))]
    public void Every_lineage_of_every_class_carries_D614G_because_all_of_them_descend_from_B1(string task)
    {
        foreach (var c in new SarsCov2TaskBuilder(Catalog).GetClasses(SarsCov2TaskBuilder.ParseTask(task)))
        {
            foreach (var lineage in c.Lineages)
            {
                output.WriteLine($"{task} {c.Label} {lineage}: {string.Join(' ', ProfileNames(lineage))}");
                ProfileNames(lineage).Should().Contain("D614G", $"{c.Label} ({lineage}) descends from B.1");
            }
        }
    }

    [Fact]
    public void Parentless_Pango_lineages_reach_B1_through_aliases_and_the_Nextstrain_clades()
    {
        Catalog.PangoParent("B.1.1.7").Should().Be("Nextstrain 20A", "B.1.1 = 20B, whose nearest clade in the table is 20A");
        Catalog.PangoParent("P.1").Should().Be("Nextstrain 20A", "P = B.1.1.28");
        Catalog.PangoParent("B.1.351").Should().Be("Nextstrain 20A");
        Catalog.PangoParent("B.1.1.7+E484K").Should().Be("B.1.1.7");
        Catalog.PangoParent("B.1.617.2+K417N").Should().Be("B.1.617.2");
        Catalog.PangoParent("A.23.1").Should().BeNull("lineage A is not a B.1 descendant");
        Catalog.GetAncestors("P.1").Should().Contain("Nextstrain 20A");
        Catalog.GetAncestors("AY.4.2").Should().ContainInOrder("AY.4", "B.1.617.2", "Nextstrain 20A");
        Catalog.GetAncestors("B.1.1.529").Should().Contain("Nextstrain 20A");
        ProfileNames("A.23.1").Should().NotContain("D614G");
        Catalog.ParentsOf("BA.3.2").Should().Equal("BA.3", "Nextstrain 21M");
        ProfileNames("BA.3.2").Should().Contain(ProfileNames("BA.3")).And.Contain("D1184E", "BA.3.2 = B.1.1.529.3.2, not just the 21M clade marker");
        Catalog.UnresolvedParents.Should().Equal("Nextstrain 19A");
    }

    [Theory]
    [MemberData(nameof(Tasks))]
    public void Every_Omicron_lineage_carries_the_shared_B11529_set(string task)
    {
        var core = Catalog.GetProfile("B.1.1.529").Where(m => m.Position is 373 or 375 or 440 or 498 or 501 or 505 or 764 or 796 or 954 or 969).ToList();
        foreach (var c in new SarsCov2TaskBuilder(Catalog).GetClasses(SarsCov2TaskBuilder.ParseTask(task)))
        {
            foreach (var lineage in c.Lineages.Where(l => Catalog.Get(l).WhoLabel == "Omicron"))
                Catalog.GetProfile(lineage).Should().Contain(core, $"{lineage} descends from B.1.1.529");
        }
    }

    [Fact]
    public void Shared_ancestral_and_convergent_sites_appear_in_every_class_that_has_them()
    {
        string[] alpha = ["B.1.1.7", "B.1.1.7+E484K"], beta = ["B.1.351"], gamma = ["P.1"];
        string[] delta = ["B.1.617.2", "B.1.617.2+K417N", "AY.4", "AY.4.2"];
        string[] omicron = ["B.1.1.529", "BA.1", "BA.2", "BA.2.12.1", "BA.4", "BA.5", "XBB", "XBB.1.5", "BA.2.86", "JN.1"];

        void AllHave(string mutation, params string[][] groups)
        {
            foreach (var lineage in groups.SelectMany(g => g)) ProfileNames(lineage).Should().Contain(mutation, lineage);
        }

        AllHave("N501Y", alpha, beta, gamma, omicron);
        AllHave("P681H", alpha, ["B.1.1.529", "BA.1", "BA.2", "BA.4", "XBB"]);
        AllHave("K417N", beta, ["B.1.617.2+K417N"], omicron);
        AllHave("H655Y", gamma, omicron);
        AllHave("L18F", beta, gamma);
        AllHave("E484K", beta, gamma, ["B.1.1.7+E484K", "BA.2.86"]);
        AllHave("E156G", delta);
        AllHave("F157-", delta);
        AllHave("T478K", delta, ["B.1.1.529", "BA.1", "BA.2"]);
        AllHave("G142D", delta, ["B.1.1.529"]);
    }

    [Fact]
    public void Documented_additions_restore_the_omissions_the_data_README_lists()
    {
        ProfileNames("B.1.351").Should().Contain(["L18F", "R246I", "K417N", "D614G", "L242-", "A243-", "L244-"]);
        ProfileNames("P.1").Should().Contain(["L18F", "T20N", "P26S", "D138Y", "R190S", "K417T", "E484K", "N501Y", "D614G", "H655Y", "T1027I", "V1176F"]);
        ProfileNames("B.1.617.2").Should().Equal("T19R", "G142D", "E156G", "F157-", "R158-", "L452R", "T478K", "D614G", "P681R", "D950N");
        ProfileNames("B.1.1.7").Should().Equal("H69-", "V70-", "Y144-", "N501Y", "A570D", "D614G", "P681H", "T716I", "S982A", "D1118H");
        ProfileNames("BA.1").Should().Contain(["K417N", "D614G"]);
    }

    [Fact]
    public void An_addition_that_does_not_match_the_reference_is_rejected()
    {
        var links = new LineageLinks { Additions = new Dictionary<string, IReadOnlyList<string>> { ["L1"] = ["N3Y"] } };
        var act = () => LineageCatalog.Parse(
            new StringReader("variant\tlineage\tmutation\tkind\tsource\tsource_site\tparent_lineage\tnote\nX\tL1\tF2V\tsubstitution\ts\ts\t\t\n"),
            new SpikeReference("ref", "MFVFLVLLPL"), links, "small.tsv");

        act.Should().Throw<InvalidDataException>().WithMessage("*'L1'*N3Y*reference*");
    }
}
