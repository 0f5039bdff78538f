using System.Text.Json;
using FluentAssertions;
using Incrt.Benchmarks;
using Incrt.Tests.Data;
using Xunit;
using Xunit.Abstractions;

namespace Incrt.Tests.Benchmarks;

/// <summary>Keeps the benchmark app working: its smallest grid runs in-process (benchmarks themselves are not CI).</summary>
public class BenchmarkQuickTests(ITestOutputHelper output)
{
    [Fact]
    public void The_tiny_run_exits_0_and_writes_json_with_the_requested_cases()
    {
        using var dir = new TempDirectory();
        var log = new StringWriter();
        int code = BenchmarkApp.Run(["--tiny", "--case", "train,surgery,e2e", "--out", dir.Path], log);
        output.WriteLine(log.ToString());

        code.Should().Be(0);
        var files = Directory.GetFiles(dir.Path, "bench-*.json");
        files.Should().ContainSingle();
        using var json = JsonDocument.Parse(File.ReadAllText(files[0]));
        var cases = json.RootElement.GetProperty("Cases").EnumerateArray().ToList();
        cases.Select(c => c.GetProperty("Case").GetString()).Should().Equal("train", "surgery", "e2e");
        cases.Should().OnlyContain(c => c.GetProperty("Rows").GetArrayLength() > 0);
        var rows = cases[2].GetProperty("Rows").EnumerateArray().ToList();
        rows.Select(r => r.GetProperty("controller").GetString()).Should().Equal("loss, measure-only", "loss, growth allowed", "energy");
        var e2e = rows[0];
        e2e.GetProperty("on samples/s").GetDouble().Should().BePositive();
        e2e.GetProperty("off samples/s").GetDouble().Should().BePositive();
        e2e.GetProperty("total on/off").GetDouble().Should().BePositive();
        e2e.GetProperty("heads on/off after").GetString().Should().Be("1/1", "--tiny runs H = 1 and the measure-only controller cannot change the layer");
        log.ToString().Should().Contain("### e2e:");
    }

    [Fact]
    public void D_model_and_batch_options_set_the_size_of_the_train_controller_and_surgery_rows()
    {
        using var dir = new TempDirectory();
        var log = new StringWriter();
        int code = BenchmarkApp.Run(["--tiny", "--case", "train,controller,surgery", "--controllers", "energy", "--d-model", "64", "--batch", "4",
            "--out", dir.Path], log);
        output.WriteLine(log.ToString());

        code.Should().Be(0);
        using var json = JsonDocument.Parse(File.ReadAllText(Directory.GetFiles(dir.Path, "bench-*.json").Single()));
        var cases = json.RootElement.GetProperty("Cases").EnumerateArray().ToList();
        cases.Should().HaveCount(3);
        foreach (var c in cases)
            c.GetProperty("Rows").EnumerateArray().Should().NotBeEmpty().And.OnlyContain(r => r.GetProperty("d_model").GetInt64() == 64);
        cases[0].GetProperty("Title").GetString().Should().Contain("B = 4");
        cases[1].GetProperty("Title").GetString().Should().Contain("d_model = 64, B = 4");
    }

    [Theory]
    [InlineData("loss", 8, 5, 2)]              // PruneProbeHeads = 4: the layer as it is and 4 of its 8 heads masked; quiet checks at 200 and 600
    [InlineData("loss-every", 8, 5, 4)]        // a check every 200 steps: 200, 400, 600, 800
    [InlineData("loss-unbounded", 8, 9, 4)]    // the layer as it is and with each of its H = 8 heads masked
    public void The_controller_case_times_the_checks_of_a_whole_run_of_a_loss_preset(string controller, int heads, int probesPerCheck, int checks)
    {
        using var dir = new TempDirectory();
        var log = new StringWriter();
        int code = BenchmarkApp.Run(["--tiny", "--case", "controller", "--controllers", controller, "--heads", heads.ToString(), "--out", dir.Path], log);
        output.WriteLine(log.ToString());

        code.Should().Be(0);
        using var json = JsonDocument.Parse(File.ReadAllText(Directory.GetFiles(dir.Path, "bench-*.json").Single()));
        var row = json.RootElement.GetProperty("Cases")[0].GetProperty("Rows").EnumerateArray().Should().ContainSingle().Subject;
        row.GetProperty("controller").GetString().Should().Be(controller);
        row.GetProperty("run steps").GetInt32().Should().Be(1_000, "--tiny times a 1,000-step run");
        row.GetProperty("checks/run").GetInt32().Should().Be(checks);
        // + 1: the reference loss L₀ at the first call
        row.GetProperty("probes/run").GetInt64().Should().Be(checks * probesPerCheck + 1, "each check masks min(H, PruneProbeHeads) heads besides the unmasked probe");
        row.GetProperty("probe ms").GetDouble().Should().BePositive();
        row.GetProperty("amortised").GetDouble().Should().BePositive();
    }

    [Fact]
    public void Unknown_cases_are_rejected_with_exit_code_2()
    {
        BenchmarkApp.Run(["--case", "nope"], new StringWriter()).Should().Be(2);
    }
}
