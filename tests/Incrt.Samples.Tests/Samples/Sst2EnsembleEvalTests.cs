using System.Globalization;
using System.Text.RegularExpressions;
using FluentAssertions;
using Incrt.Sst2;
using Incrt.Tasks.Data;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;

namespace Incrt.Tests.Samples;

/// <summary><c>--eval a,b,…</c>: every member scored alone, then the mean of their class probabilities.</summary>
public class Sst2EnsembleEvalTests(ITestOutputHelper output)
{
    private static readonly string[] Small = ["--epochs", "1", "--batch-size", "16", "--d-model", "16", "--head-dim", "8", "--evals-per-epoch", "1"];

    private string Eval(string checkpoints, string data, int expectedCode = 0)
    {
        var log = new StringWriter();
        var err = new StringWriter();
        Sst2App.Run(["--eval", checkpoints, "--data", data], log, err, consoleLogging: false).Should().Be(expectedCode, err.ToString());
        output.WriteLine(log.ToString() + err);
        return expectedCode == 0 ? log.ToString() : err.ToString();
    }

    /// <summary>The accuracy of the first line matching <paramref name="pattern"/> (whose group 1 is the percentage).</summary>
    private static double Percent(string text, string pattern)
    {
        var m = Regex.Match(text, pattern, RegexOptions.Multiline);
        m.Success.Should().BeTrue($"the output should match {pattern}");
        return double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>The scored model's (or ensemble's) accuracy line.</summary>
    private static double Accuracy(string text) => Percent(text, @"^accuracy (\d+\.\d+) % \(\d+/120\)");

    private static double Member(string text, string path) => Percent(text, "^member " + Regex.Escape(Path.GetFullPath(path)) + @"[^\n]*accuracy (\d+\.\d+) %");

    [Fact]
    public void Each_member_scores_as_it_does_alone_and_a_model_with_itself_scores_as_the_model()
    {
        using var dir = Sst2DeepModelTests.Subset(400, 120);
        var a = Path.Combine(dir.Path, "a");
        var b = Path.Combine(dir.Path, "b");
        foreach (var (folder, seed, pieces) in new[] { (a, "1", "0"), (b, "2", "3") })   // b splits words into pieces: other token ids and lengths
            Sst2App.Run([.. Small, "--data", dir.Path, "--out", folder, "--seed", seed, "--pieces", pieces], new StringWriter(), new StringWriter(), consoleLogging: false).Should().Be(0);
        string dev = Path.Combine(dir.Path, "dev.tsv");
        string ma = Path.Combine(a, "model.incrt"), mb = Path.Combine(b, "model.incrt");
        double aloneA = Accuracy(Eval(ma, dev)), aloneB = Accuracy(Eval(mb, dev));

        string both = Eval($"{ma},{mb}", dev);
        both.Should().Contain("ensemble of 2 (mean class probabilities)").And.Contain("scored 120 sentences")
            .And.MatchRegex(@"member [^\n]*\d+\.\d % of the words not in its vocabulary", "each member reports the unknown-word rate of the scored file for its vocabulary");
        Member(both, ma).Should().Be(aloneA, "members are matched to the file's rows by position");
        Member(both, mb).Should().Be(aloneB);
        Accuracy(both).Should().BeInRange(0, 100);

        Accuracy(Eval($"{ma}, {ma}", dev)).Should().Be(aloneA, "the mean of one model's probabilities twice is the model");
    }

    [Fact]
    public void Each_row_of_the_file_is_scored_as_that_sentence_alone()
    {
        using var dir = Sst2DeepModelTests.Subset(400, 120);
        var a = Path.Combine(dir.Path, "a");
        Sst2App.Run([.. Small, "--data", dir.Path, "--out", a], new StringWriter(), new StringWriter(), consoleLogging: false).Should().Be(0);
        var rows = LabeledTextTsv.Read(Path.Combine(dir.Path, "dev.tsv"));
        var (model, ids, _, _) = EnsembleEvaluation.Load(Path.Combine(a, "model.incrt"), rows, torch.CPU);
        using var _ = model;
        var batched = EnsembleEvaluation.Probabilities(model, Sst2Pipeline.EvalBatcher(ids, rows, torch.CPU));   // padded batches of 256
        for (int i = 0; i < rows.Count; i += 7)
        {
            var alone = EnsembleEvaluation.Probabilities(model, Sst2Pipeline.EvalBatcher(new[] { ids[i] }, new[] { rows[i] }, torch.CPU));
            batched[i, 1].Should().BeApproximately(alone[0, 1], 1e-5, $"row {i} of the file is scored as row {i}");
        }
    }

    [Fact]
    public void An_empty_entry_in_the_list_exits_2_naming_the_option()
    {
        using var dir = Sst2DeepModelTests.Subset(10, 10);
        Eval("a.incrt,", Path.Combine(dir.Path, "dev.tsv"), expectedCode: 2).Should().Contain("--eval").And.Contain("empty checkpoint path");
    }
}
