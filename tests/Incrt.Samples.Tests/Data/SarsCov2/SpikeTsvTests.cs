using FluentAssertions;
using Incrt.Tasks.Data.SarsCov2;
using Xunit;

namespace Incrt.Tests.Data.SarsCov2;

public class SpikeTsvTests
{
    private static IReadOnlyList<SpikeRecord> Parse(string text) => SpikeTsv.Read(new StringReader(text), "data.tsv");

    [Fact]
    public void Written_records_read_back_identically_through_a_file()
    {
        var records = new SarsCov2TaskBuilder(SarsCov2Data.Catalog).Build("voc5", 4, seed: 1).All;
        string path = Path.Combine(Path.GetTempPath(), $"incrt-sarscov2-{Guid.NewGuid():N}.tsv");
        try
        {
            SpikeTsv.WriteFile(path, records);
            File.ReadLines(path).First().Should().Be("id\tlabel\tsequence");
            SpikeTsv.ReadFile(path).Should().Equal(records);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Lower_case_residues_are_upper_cased_and_blank_lines_skipped()
    {
        Parse("id\tlabel\tsequence\na\tAlpha\tmfvX\n\n").Should().Equal(new SpikeRecord("a", "Alpha", "MFVX"));
    }

    [Theory]
    [InlineData("id\tlabel\tsequence\n\tAlpha\tMFV\n", "line 2", "empty id")]
    [InlineData("id\tlabel\tsequence\na\tAlpha\tMFV\na\tBeta\tMFV\n", "line 3 (record 'a')", "duplicate id")]
    [InlineData("id\tlabel\tsequence\na\t\tMFV\n", "line 2 (record 'a')", "missing label")]
    [InlineData("id\tlabel\tsequence\na\tAlpha\tMFV\nb\tBeta\tMFJV\n", "line 3 (record 'b')", "unknown residue 'J' at position 3")]
    [InlineData("id\tlabel\tsequence\na\tAlpha\n", "line 2 (record 'a')", "3 tab-separated fields")]
    [InlineData("id\tlabel\tsequence\na\tAlpha\t\n", "line 2 (record 'a')", "empty sequence")]
    [InlineData("name\tclass\tseq\n", "line 1", "expected header")]
    public void Malformed_tsv_throws_InvalidDataException_naming_record_and_line(string text, string where, string problem)
    {
        var act = () => Parse(text);

        act.Should().Throw<InvalidDataException>().Which.Message.Should().Contain("data.tsv").And.Contain(where).And.Contain(problem);
    }

    [Fact]
    public void Writing_a_field_with_a_tab_is_refused()
    {
        var act = () => SpikeTsv.Write(new StringWriter(), [new SpikeRecord("a\tb", "L", "MFV")]);

        act.Should().Throw<ArgumentException>().WithMessage("*id contains a tab*");
    }
}
