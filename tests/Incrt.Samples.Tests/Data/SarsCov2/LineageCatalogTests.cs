using FluentAssertions;
using Incrt.Tasks.Data.SarsCov2;
using Xunit;
using Xunit.Abstractions;

namespace Incrt.Tests.Data.SarsCov2;

public class LineageCatalogTests(ITestOutputHelper output)
{
    private static LineageCatalog Catalog => SarsCov2Data.Catalog;

    private static IEnumerable<string> ProfileNames(string lineage) => Catalog.GetProfile(lineage).Select(m => m.Name);

    [Fact]
    public void Table_parses_into_lineages_with_WHO_labels()
    {
        Catalog.Lineages.Count(l => l.IsFromTable).Should().Be(69);
        Catalog.Lineages.Sum(l => l.Mutations.Count + l.NonAminoAcidSites.Count).Should().BeLessThanOrEqualTo(354);
        Catalog.WhoLabels.Should().Equal("Alpha", "Beta", "Delta", "Epsilon", "Eta", "Gamma", "Iota", "Kappa", "Lambda", "Mu", "Omicron", "Theta", "Zeta");
        Catalog.Get("B.1.1.7").WhoLabel.Should().Be("Alpha");
        Catalog.Get("A.23.1").WhoLabel.Should().BeNull();
    }

    [Fact]
    public void Alpha_spike_carries_N501Y_del69_70_delY144_and_P681H()
    {
        ProfileNames("B.1.1.7").Should().Contain(["N501Y", "H69-", "V70-", "Y144-", "P681H", "A570D", "D1118H"]);
        string spike = Catalog.BuildSpike("B.1.1.7");

        spike.Length.Should().Be(1273 - 3);
        spike.Should().Contain("GFQPTYGVGYQ", "N501Y").And.Contain("WFHAISGTN", "H69/V70 deleted").And.Contain("QTNSHRRAR", "P681H");
        spike.Should().NotContain("AIHVSGT");
    }

    [Fact]
    public void Delta_spike_carries_L452R_T478K_and_P681R_but_keeps_69_70()
    {
        ProfileNames("B.1.617.2").Should().Contain(["L452R", "T478K", "P681R", "T19R", "D950N"]);
        string spike = Catalog.BuildSpike("B.1.617.2");

        spike.Should().Contain("GNYNYRYRLFR", "L452R").And.Contain("QTNSRRRAR", "P681R").And.Contain("WFHAIHVSGTN");
        spike.Length.Should().Be(1271, "E156G and Δ157–158 are Delta-wide (the table has them on AY.4 only)");
    }

    [Fact]
    public void Beta_and_Gamma_spikes_carry_E484K_and_N501Y_and_Gamma_K417T()
    {
        foreach (var lineage in new[] { "B.1.351", "P.1" })
        {
            var spike = Catalog.BuildSpike(lineage);
            spike.Should().Contain("PCNGVKGFNCY", $"{lineage} has E484K").And.Contain("GFQPTYGVGYQ", $"{lineage} has N501Y");
        }
        Catalog.BuildSpike("P.1").Should().Contain("PGQTGTIADYN", "P.1 has K417T");
        Catalog.BuildSpike("B.1.351").Length.Should().Be(1270, "Beta deletes L242-L244");
    }

    [Fact]
    public void BA1_profile_is_B11529_rows_plus_BA1_rows_and_has_more_than_30_changes()
    {
        var ba1 = ProfileNames("BA.1").ToList();
        output.WriteLine($"BA.1: {ba1.Count} changes: {string.Join(' ', ba1)}");

        ba1.Should().Contain(Catalog.Get("B.1.1.529").Mutations.Select(m => m.Name), "BA.1 inherits the shared Omicron set");
        ba1.Should().Contain(Catalog.Get("BA.1").Mutations.Select(m => m.Name));
        ba1.Should().Contain("D614G", "via Nextstrain 21M -> 20B -> 20A");
        ba1.Count.Should().Be(37, "36 rows plus the K417N the table omits");
        Catalog.GetAncestors("BA.1").Should().Contain(["B.1.1.529", "Nextstrain 21M", "Nextstrain 20A"]);
        string spike = Catalog.BuildSpike("BA.1");
        spike.Should().Contain("IIVREPEDLP", "N211I, L212-, ins214EPE").And.Contain("CNGVAGFNCYFPLRSYSFRPTYGVGHQ").And.Contain("QTKSHRRAR");
        spike.Length.Should().Be(1273 - 6 + 3);
    }

    [Fact]
    public void Child_alleles_override_the_parent_at_the_same_position()
    {
        var ba286 = ProfileNames("BA.2.86").ToList();

        ba286.Should().Contain(["G339H", "E484K"]).And.NotContain(["G339D", "E484A"]);
        ProfileNames("XBB.1.5").Should().Contain("F486P").And.NotContain("F486S");
    }

    [Fact]
    public void Documented_reversions_drop_Q493R_for_XBB_and_BA286_and_their_descendants_but_not_for_BA2()
    {
        ProfileNames("BA.2").Should().Contain("Q493R");
        foreach (var lineage in new[] { "XBB", "XBB.1.5", "BA.2.86", "JN.1" })
        {
            ProfileNames(lineage).Should().NotContain("Q493R", lineage);
        }
        Catalog.BuildSpike("BA.2.86").Should().Contain("CKGVKGPNCYFPLQSYGFRPTYGVGHQ");
    }

    [Fact]
    public void Parent_chains_bridge_XBB_parent2_and_Nextstrain_display_names()
    {
        Catalog.GetAncestors("XBB.1.5").Should().ContainInOrder("XBB.1", "XBB");
        Catalog.GetAncestors("XBB").Should().Contain(["XBB-parent2", "XBB-parent1", "BA.2", "B.1.1.529"]);
        Catalog.Get("XBB-parent2").IsFromTable.Should().BeFalse();
        Catalog.ResolveParent("Nextstrain 23I").Should().Be("BA.2.86");
        Catalog.ResolveParent("Nextstrain 22D").Should().Be("BA.2", "BA.2.75 is not in the table, so 22D falls back to its parent clade 21L");
        ProfileNames("JN.1").Should().Contain(["L455S", "G339H", "K417N"]);
        ProfileNames("BA.2.12.1").Should().Contain(["L452Q", "S704L", "T376A"]);
    }

    [Fact]
    public void Only_the_Nextstrain_root_clade_stays_unresolved()
    {
        output.WriteLine("unresolved: " + string.Join(", ", Catalog.UnresolvedParents));
        Catalog.UnresolvedParents.Should().Equal("Nextstrain 19A");
    }

    [Fact]
    public void Every_lineage_builds_and_nucleotide_reversion_rows_are_kept_but_not_applied()
    {
        foreach (var l in Catalog.Lineages)
        {
            var spike = Catalog.BuildSpike(l.Name);
            spike.Length.Should().BeInRange(1265, 1276, l.Name);
            AminoAcids.IndexOfInvalid(spike).Should().Be(-1);
        }
        Catalog.Get("MV.1").NonAminoAcidSites.Should().Contain("rev:nt22995C");
        Catalog.Get("BA.1").NonAminoAcidSites.Should().Contain("syn:C25000T");
    }

    private const string Header = "variant\tlineage\tmutation\tkind\tsource\tsource_site\tparent_lineage\tnote\n";

    private static LineageCatalog ParseSmall(string rows) =>
        LineageCatalog.Parse(new StringReader(Header + rows), new SpikeReference("ref", "MFVFLVLLPL"), null, "small.tsv");

    [Fact]
    public void A_from_residue_that_differs_from_the_reference_is_rejected_naming_line_and_lineage()
    {
        var act = () => ParseSmall("X\tL1\tF2V\tsubstitution\ts\ts\t\t\nX\tL1\tL3A\tsubstitution\ts\ts\t\t\n");

        act.Should().Throw<InvalidDataException>().WithMessage("*small.tsv: line 3 (lineage 'L1')*L3A*'V'*");
    }

    [Fact]
    public void Conflicting_alleles_within_one_lineage_and_unknown_kinds_are_rejected()
    {
        var conflict = () => ParseSmall("X\tL1\tF2V\tsubstitution\ts\ts\t\t\nX\tL1\tF2-\tdeletion\ts\ts\t\t\n");
        var kind = () => ParseSmall("X\tL1\tF2V\tswap\ts\ts\t\t\n");
        var mismatch = () => ParseSmall("X\tL1\tF2-\tsubstitution\ts\ts\t\t\n");

        conflict.Should().Throw<InvalidDataException>().WithMessage("*line 3*F2-*conflicts*F2V*line 2*");
        kind.Should().Throw<InvalidDataException>().WithMessage("*line 2*unknown kind 'swap'*");
        mismatch.Should().Throw<InvalidDataException>().WithMessage("*line 2*'F2-' is not a substitution*");
    }

    [Fact]
    public void Small_table_resolves_parents_and_reports_missing_ones()
    {
        var c = ParseSmall("A\tP\tF2V\tsubstitution\ts\ts\tGone\t\nA\tC\tL5I\tsubstitution\ts\ts\tP\t\nA\tC\tins7WW\tinsertion\ts\ts\tP\t\n");

        c.BuildSpike("C").Should().Be("MVVFIVLWWLPL");
        c.UnresolvedParents.Should().Equal("Gone");
    }

    [Fact]
    public void Applying_a_mutation_whose_from_residue_mismatches_throws_a_clear_error()
    {
        var reference = new SpikeReference("ref", "MFVFL");
        var act = () => SpikeMutation.Apply(reference, [SpikeMutation.Parse("N3Y")]);

        act.Should().Throw<InvalidDataException>().WithMessage("*N3Y*'N'*position 3*'V'*");
    }
}
