using FluentAssertions;
using Incrt.SarsCov2;
using Incrt.Tests.Data;
using Incrt.Tests.Data.SarsCov2;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;
using Xunit.Abstractions;

namespace Incrt.Tests.Samples;

/// <summary>Bad user input to the SARS-CoV-2 sample: one <c>error:</c> line naming the file and the record or line,
/// exit code 2, nothing written (issue 18).</summary>
public class SarsCov2BadInputTests(ITestOutputHelper output)
{
    private const string Header = "id\tlabel\tsequence\n";

    private (int Code, string Out, string Err) Run(SarsCov2AppOptions options)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = SarsCov2App.Run(options, stdout, stderr, NullLoggerFactory.Instance);
        output.WriteLine(stdout.ToString());
        output.WriteLine(stderr.ToString());
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static string Rows(int n, string label, string sequence) =>
        string.Concat(Enumerable.Range(0, n).Select(i => $"{label}{i}\t{label}\t{sequence}\n"));

    [Theory]
    [InlineData("internal-stop-tsv", "bad.tsv", "line 4 (record 'b1')", "stop '*' inside")]
    [InlineData("internal-stop-fasta", "bad.fasta", "record 'q2' (line 3)", "stop '*' inside")]
    [InlineData("sequence-before-header", "bad.fasta", "line 1", "before the first '>' header")]
    [InlineData("empty-fasta-record", "bad.fasta", "record 'q2' (line 3)", "empty record")]
    [InlineData("empty-tsv", "bad.tsv", "bad.tsv", "empty file")]
    [InlineData("header-only-tsv", "bad.tsv", "bad.tsv", "no records")]
    [InlineData("empty-fasta", "bad.fasta", "bad.fasta", "no FASTA records")]
    [InlineData("wrong-header", "bad.tsv", "line 1", "expected header 'id\\tlabel\\tsequence', found 'name\\tclass\\tseq'")]
    [InlineData("field-count", "bad.tsv", "line 3 (record 'a1')", "expected 3 tab-separated fields")]
    public void Bad_user_data_is_one_error_line_naming_file_and_record_with_exit_code_2_and_nothing_written(
        string kind, string file, string where, string what)
    {
        using var dir = new TempDirectory();
        string good = Header + Rows(10, "a", "MFVFLVLLPL") + Rows(10, "b", "MFVFLVLLPA");
        string path = kind switch
        {
            "internal-stop-tsv" => dir.File(file, Header + "a0\ta\tMFVF\nb0\tb\tMFVA*\nb1\tb\tMF*VA\n"),
            "internal-stop-fasta" => dir.File(file, ">q1\nMFVF*\n>q2 spike\nMFV*F\n"),
            "sequence-before-header" => dir.File(file, "MFVF\n>q1\nMFVF\n"),
            "empty-fasta-record" => dir.File(file, ">q1\nMFVF\n>q2\n>q3\nMFVA\n"),
            "empty-tsv" => dir.File(file, ""),
            "header-only-tsv" => dir.File(file, Header),
            "empty-fasta" => dir.File(file, ""),
            "wrong-header" => dir.File(file, "name\tclass\tseq\n" + good[Header.Length..]),
            _ => dir.File(file, Header + "a0\ta\tMFVF\na1\ta\n"),
        };
        var labels = dir.File("labels.tsv", "id\tlabel\nq1\ta\nq2\tb\nq3\tb\n");
        string outDir = Path.Combine(dir.Path, "out");
        var options = new SarsCov2AppOptions { Data = SarsCov2Data.Directory, Out = outDir, Epochs = 1, GridPerClass = 0 };
        options = file.EndsWith(".fasta", StringComparison.Ordinal) ? options with { Fasta = path, Labels = labels } : options with { InputTsv = path };

        var (code, stdout, stderr) = Run(options);

        code.Should().Be(SarsCov2App.UserErrorExitCode);
        stderr.Should().StartWith("error: ").And.Contain(file).And.Contain(where).And.Contain(what).And.NotContain("   at ");
        stderr.TrimEnd().Split('\n').Should().HaveCount(1, "one error line");
        stdout.Should().BeEmpty();
        Directory.Exists(outDir).Should().BeFalse("nothing is written");
    }

    [Fact]
    public void A_trailing_stop_codon_is_accepted_in_TSV_and_FASTA()
    {
        using var dir = new TempDirectory();
        var tsv = dir.File("ok.tsv", Header + "a0\ta\tMFVFLV*\nb0\tb\tMFVFLA\n");
        var fasta = dir.File("ok.fasta", ">q1\nMFVF\nLV*\n>q2\nMFVFLA\n");
        var labels = dir.File("labels.csv", "Accession,Pangolin\nq1,a\nq2,b\n");
        var common = new SarsCov2AppOptions { Data = SarsCov2Data.Directory, Out = Path.Combine(dir.Path, "out") };

        Run(common with { InputTsv = tsv, WriteTsv = Path.Combine(dir.Path, "t.tsv"), NoTrain = true }).Code.Should().Be(0);
        Run(common with { Fasta = fasta, Labels = labels, WriteTsv = Path.Combine(dir.Path, "f.tsv"), NoTrain = true }).Code.Should().Be(0);
        File.ReadAllText(Path.Combine(dir.Path, "t.tsv")).Should().Contain("a0\ta\tMFVFLV\n");
        File.ReadAllText(Path.Combine(dir.Path, "f.tsv")).Should().Contain("q1\ta\tMFVFLV\n");
    }

    [Fact]
    public void Eval_on_a_header_only_file_is_an_error_not_an_accuracy_of_NaN()
    {
        using var dir = new TempDirectory();
        var headerOnly = dir.File("empty.tsv", Header);
        var checkpoint = dir.File("model.incrt", "not really a checkpoint");

        var (code, stdout, stderr) = Run(new SarsCov2AppOptions { Eval = checkpoint, InputTsv = headerOnly });

        code.Should().Be(SarsCov2App.UserErrorExitCode);
        stderr.Should().StartWith("error: ").And.Contain("empty.tsv").And.Contain("no records");
        stdout.Should().NotContain("NaN");
        Directory.GetFiles(dir.Path).Should().HaveCount(2, "nothing is written");
    }

    [Fact]
    public void The_quick_preset_writes_to_its_own_output_folder()
    {
        SarsCov2App.OutputFolder(new SarsCov2AppOptions { Quick = true }).Should().Be(Path.Combine("runs", "sarscov2-quick"));
        SarsCov2App.OutputFolder(new SarsCov2AppOptions()).Should().Be(Path.Combine("runs", "sarscov2"));
        SarsCov2App.OutputFolder(new SarsCov2AppOptions { Quick = true, Out = "mine" }).Should().Be("mine");
    }

    [Fact]
    public void Who_trains_24_epochs_by_default_and_an_explicit_epochs_or_the_quick_preset_wins()
    {
        var none = new HashSet<string>();
        new SarsCov2AppOptions { Task = "who" }.WithTaskDefaults(none).Epochs.Should().Be(24);
        new SarsCov2AppOptions { Task = "voc5" }.WithTaskDefaults(none).Epochs.Should().Be(12);
        new SarsCov2AppOptions { Task = "omicron" }.WithTaskDefaults(none).Epochs.Should().Be(12);
        new SarsCov2AppOptions { Task = "who", Epochs = 5 }.WithTaskDefaults(new HashSet<string> { nameof(SarsCov2AppOptions.Epochs) }).Epochs.Should().Be(5);
        new SarsCov2AppOptions { Task = "who", Quick = true }.WithTaskDefaults(none).WithQuickPreset(none).Epochs.Should().Be(12);
    }

    [Fact]
    public void The_oracle_scores_simulated_sets_and_refuses_user_data_with_one_error_line()
    {
        using var dir = new TempDirectory();
        var tsv = dir.File("mine.tsv", Header + Rows(10, "A", "MFVFLVLLPLVSS") + Rows(10, "B", "MFVFLVLLPLVSA"));

        var (badCode, _, stderr) = Run(new SarsCov2AppOptions { Oracle = true, InputTsv = tsv, Out = Path.Combine(dir.Path, "out") });
        var (code, stdout, _) = Run(new SarsCov2AppOptions { Oracle = true, PerClass = 20, GridPerClass = 4, Data = SarsCov2Data.Directory, Out = Path.Combine(dir.Path, "out") });

        badCode.Should().Be(SarsCov2App.UserErrorExitCode);
        stderr.Trim().Should().StartWith("error: --oracle").And.NotContain("\n");
        code.Should().Be(0);
        stdout.Should().Contain("test split (10)").And.Contain("all shifted").And.Contain("worst grid set");
        Directory.Exists(Path.Combine(dir.Path, "out")).Should().BeFalse("the oracle trains and writes nothing");
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    public void A_token_dropout_outside_0_1_is_one_error_line_naming_the_option(double p)
    {
        using var dir = new TempDirectory();
        var (code, _, stderr) = Run(new SarsCov2AppOptions { TokenDropout = p, Quick = true, Data = SarsCov2Data.Directory, Out = Path.Combine(dir.Path, "out") });
        code.Should().Be(SarsCov2App.UserErrorExitCode);
        stderr.Trim().Should().StartWith("error: --token-dropout").And.NotContain("\n");
        Directory.Exists(Path.Combine(dir.Path, "out")).Should().BeFalse();
    }

    [Theory]
    [InlineData(0, null, null, null, "--probe-every")]
    [InlineData(null, -1, null, null, "--prune-every")]
    [InlineData(null, null, 0, null, "--probe-examples")]
    [InlineData(null, null, null, 0, "--trial-steps")]
    public void A_probe_or_prune_setting_below_1_is_one_error_line_naming_the_option(int? probe, int? prune, int? examples, int? trial, string option)
    {
        using var dir = new TempDirectory();
        var (code, _, stderr) = Run(new SarsCov2AppOptions
        {
            ProbeEvery = probe, PruneEvery = prune, ProbeExamples = examples, TrialSteps = trial, Quick = true, Data = SarsCov2Data.Directory, Out = Path.Combine(dir.Path, "out"),
        });
        code.Should().Be(SarsCov2App.UserErrorExitCode);
        stderr.Trim().Should().StartWith("error: " + option).And.NotContain("\n");
        Directory.Exists(Path.Combine(dir.Path, "out")).Should().BeFalse();
    }
}
