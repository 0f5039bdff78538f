using FluentAssertions;
using Incrt.Tasks.Data.SarsCov2;
using Xunit;

namespace Incrt.Tests.Data.SarsCov2;

public class ProteinFastaTests
{
    private static IReadOnlyList<FastaRecord> Parse(string text) => ProteinFasta.Read(new StringReader(text), "test.fasta");

    [Fact]
    public void Wuhan_reference_has_1273_residues_starts_with_MFVFLVLLPLVSSQ_and_has_Y1067()
    {
        var reference = SpikeReference.Load(SarsCov2Data.ReferencePath);

        reference.Id.Should().Be("YP_009724390.1");
        reference.Length.Should().Be(SpikeReference.WuhanHu1Length).And.Be(1273);
        reference.Sequence.Should().StartWith("MFVFLVLLPLVSSQ").And.EndWith("VLKGVKLHYT");
        reference.ResidueAt(501).Should().Be('N');
        reference.ResidueAt(614).Should().Be('D');
        reference.ResidueAt(1067).Should().Be('Y', "the data README notes the brief's V1067 is a typo");
    }

    [Fact]
    public void Multi_record_fasta_joins_wrapped_lines_uppercases_and_strips_one_trailing_stop()
    {
        var records = Parse(">a first record\nMFV\nflv\n\n>b\nACDX*\n");

        records.Should().HaveCount(2);
        records[0].Should().Be(new FastaRecord("a", "first record", "MFVFLV", 1));
        records[1].Id.Should().Be("b");
        records[1].Sequence.Should().Be("ACDX");
        records[1].Line.Should().Be(5);
    }

    [Theory]
    [InlineData(">ok\nACD\n>bad\nACBD\n", "'bad'", "line 4", "'B'")]
    [InlineData(">ok\nACD\n>gap\nAC-D\n", "'gap'", "line 4", "'-'")]
    [InlineData(">ok\nACD\n>empty\n>next\nAC\n", "'empty'", "line 3", "empty record")]
    [InlineData(">ok\nACD\n>star\nAC*\n*\n", "'star'", "line 3", "stop")]
    [InlineData(">ok\nACD\n>ok\nAC\n", "'ok'", "line 3", "duplicate")]
    [InlineData("ACD\n>a\nAC\n", "line 1", "line 1", "before the first")]
    public void Malformed_fasta_throws_InvalidDataException_naming_record_and_line(string text, string record, string line, string problem)
    {
        var act = () => Parse(text);

        act.Should().Throw<InvalidDataException>()
            .Which.Message.Should().Contain(record).And.Contain(line).And.Contain(problem).And.Contain("test.fasta");
    }

    [Fact]
    public void A_reference_may_not_contain_unknown_residues()
    {
        var act = () => new SpikeReference("r", "ACDXA");

        act.Should().Throw<InvalidDataException>().WithMessage("*'r'*position 4*");
    }
}
