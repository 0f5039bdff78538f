using FluentAssertions;
using Incrt.Tasks.Data;
using Xunit;

namespace Incrt.Tests.Data;

public class LabeledTextTsvTests
{
    private static string Sst2(string split) => DataPaths.Sst2File(DataPaths.Resolve(), split);

    [Fact]
    public void Sst2_train_parses_with_the_documented_row_and_class_counts()
    {
        var rows = LabeledTextTsv.Read(Sst2("train"));
        rows.Should().HaveCount(67_349);
        LabeledTextTsv.CountLabels(rows).Should().Equal(29_780, 37_569);
        rows[0].Should().Be(new LabeledText("hide new secretions from the parental units", 0));
    }

    [Fact]
    public void Sst2_dev_parses_with_the_documented_row_and_class_counts()
    {
        var rows = LabeledTextTsv.Read(Sst2("dev"));
        rows.Should().HaveCount(872);
        LabeledTextTsv.CountLabels(rows).Should().Equal(428, 444);
        rows.Should().OnlyContain(r => r.Text.Length > 0 && r.Text == r.Text.Trim());
    }

    [Fact]
    public void Quote_characters_are_plain_text()
    {
        using var dir = new TempDirectory();
        var path = dir.File("q.tsv", "sentence\tlabel\n\"a \" b ``quoted'' \t1\n");
        LabeledTextTsv.Read(path).Should().Equal(new LabeledText("\"a \" b ``quoted'' ", 1));
    }

    [Fact]
    public void Missing_file_throws_FileNotFoundException_naming_the_path()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "nope.tsv");
        var act = () => LabeledTextTsv.Read(path);
        act.Should().Throw<FileNotFoundException>().Which.Message.Should().Contain(path);
    }

    [Theory]
    [InlineData("sentence\tlabel\ngood\t1\nno tab here\n", 3, "exactly one tab")]
    [InlineData("sentence\tlabel\ngood\t1\nbad\t0\ttoo many\n", 3, "exactly one tab")]
    [InlineData("sentence\tlabel\ngood\t1\nfine\t0\nbad\t2\n", 4, "label 0 or 1")]
    [InlineData("sentence\tlabel\ngood\t1\nbad\t\n", 3, "label 0 or 1")]
    [InlineData("sentence\tlabel\ngood\t 1\n", 2, "label 0 or 1")]
    [InlineData("sentence\tlabel\n\t1\n", 2, "non-empty text")]
    [InlineData("sentence\tlabel\ngood\t1\n\n", 3, "exactly one tab")]
    [InlineData("text\tlabel\ngood\t1\n", 1, "header")]
    [InlineData("", 1, "header")]
    [InlineData("sentence\tlabel\n", 1, "no data rows")]
    public void Malformed_line_throws_with_file_line_number_and_expectation(string content, int line, string expectation)
    {
        using var dir = new TempDirectory();
        var path = dir.File("bad.tsv", content);
        var act = () => LabeledTextTsv.Read(path);
        var e = act.Should().Throw<DatasetFormatException>().Which;
        e.LineNumber.Should().Be(line);
        e.FilePath.Should().Be(path);
        e.Message.Should().Contain(path).And.Contain($"line {line}:").And.Contain(expectation);
    }
}
