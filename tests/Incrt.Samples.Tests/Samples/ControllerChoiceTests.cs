using System.Text.Json;
using FluentAssertions;
using Incrt.Control;
using Incrt.Samples.Common;
using Incrt.SarsCov2;
using Incrt.Sst2;
using Incrt.Tasks.Data;
using Incrt.Tests.Data;
using Incrt.Tests.Data.SarsCov2;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;
using Xunit.Abstractions;

namespace Incrt.Tests.Samples;

/// <summary>The samples' <c>--controller energy|loss|paper</c> option (issue 15): one name → preset mapping for SST-2 and
/// SARS-CoV-2, explicit <c>--thresholds</c>/<c>--prune</c> on top, the loss-aware freeze step at 85% of the run, and a bad
/// value answered by one <c>error:</c> line naming the option, exit code 2, nothing written.</summary>
public class ControllerChoiceTests(ITestOutputHelper output)
{
    [Fact]
    public void Each_name_maps_to_its_preset_and_every_sample_defaults_to_loss_aware()
    {
        ControllerChoice.Default.Should().Be("loss");
        new Incrt.Sst2.Sst2Settings().Controller.Should().Be("loss");
        ControllerChoice.Preset("energy").Should().Be(ControllerPresets.Energy);
        ControllerChoice.Preset("loss").Should().Be(ControllerPresets.LossAware);
        ControllerChoice.Preset("paper").Should().Be(ControllerPresets.Paper);
        ControllerChoice.Preset("LOSS").Should().Be(ControllerPresets.LossAware, "names are case-insensitive");
        new SarsCov2AppOptions().Controller.Should().Be("loss");
        new SarsCov2AppOptions().ControllerOptionsFor(1000).Should().Be(ControllerChoice.Build("loss", 1000),
            "the SARS-CoV-2 default is the loss-aware preset (same scores as energy at a quarter of the CPU time; README)");
    }

    [Fact]
    public void A_loss_aware_run_freezes_at_85_percent_and_the_energy_preset_is_unchanged()
    {
        var loss = ControllerChoice.Build("loss", 3159);
        loss.Growth.Should().Be(GrowthSignal.LossPlateau);
        loss.Prune.Should().Be(PruneStatistic.MaskedLoss);
        loss.LossAware.FreezeAtStep.Should().Be(2685); // ⌊0.85 · 3159⌋
        loss.LossAware.Should().Be(ControllerPresets.LossAware.LossAware with { FreezeAtStep = 2685, StartAtStep = 315 }, "only the start and stop change");

        ControllerChoice.Build("energy", 3159).Should().Be(ControllerPresets.Energy);
        ControllerChoice.Build("paper", 3159).Should().Be(ControllerPresets.Paper);
        // An explicit masked-loss prune under the energy preset is loss-aware too, so it gets the stop.
        ControllerChoice.Build("energy", 1000, prune: PruneStatistic.MaskedLoss).LossAware.FreezeAtStep.Should().Be(850);
    }

    [Fact]
    public void Explicit_thresholds_and_prune_override_the_preset()
    {
        var o = ControllerChoice.Build("paper", 100, ThresholdMode.Relative, PruneStatistic.None, 0.5);
        o.Thresholds.Should().Be(ThresholdMode.Relative);
        o.Prune.Should().Be(PruneStatistic.None);
        o.LeaveOneOutRatio.Should().Be(0.5);
        o.Estimator.Should().Be(ControllerPresets.Paper.Estimator, "the other fields stay the preset's");

        ControllerChoice.Build("paper", 100).Thresholds.Should().Be(ThresholdMode.Calibrated, "without an override the preset's thresholds");
        new SarsCov2AppOptions { Controller = "loss", Prune = PruneStatistic.Reference }.ControllerOptionsFor(100).Prune.Should().Be(PruneStatistic.Reference);
    }

    [Fact]
    public void Explicit_probe_and_prune_intervals_override_the_loss_aware_settings_only()
    {
        var o = ControllerChoice.Build("loss", 1000, probeEvery: 50, pruneEvery: 200);
        o.LossAware.ProbeEverySteps.Should().Be(50);
        o.LossAware.PruneEverySteps.Should().Be(200);
        o.LossAware.TrialSteps.Should().Be(ControllerPresets.LossAware.LossAware.TrialSteps, "the other settings stay the preset's");
        ControllerChoice.Build("loss", 1000).LossAware.ProbeEverySteps.Should().Be(ControllerPresets.LossAware.LossAware.ProbeEverySteps);
        ControllerChoice.Build("energy", 1000, probeEvery: 50).Should().Be(ControllerPresets.Energy, "the energy preset has no probe");
        new SarsCov2AppOptions { ProbeEvery = 50, PruneEvery = 200 }.ControllerOptionsFor(1000).Should().Be(o);
    }

    [Fact]
    public void An_explicit_trial_length_overrides_only_the_loss_aware_TrialSteps()
    {
        var o = ControllerChoice.Build("loss", 1000, trialSteps: 150);
        var preset = ControllerChoice.Build("loss", 1000);
        o.LossAware.TrialSteps.Should().Be(150);
        o.Should().Be(preset with { LossAware = preset.LossAware with { TrialSteps = 150 } });
        ControllerChoice.Build("energy", 1000, trialSteps: 150).Should().Be(ControllerPresets.Energy, "the energy preset has no trial heads");
    }

    [Theory]
    [InlineData("nope")]
    [InlineData("")]
    [InlineData("energy,loss")]
    public void A_bad_value_is_one_error_naming_the_option_with_exit_code_2_and_nothing_written(string value)
    {
        using var dir = new TempDirectory();

        // SST-2 (command line).
        var sstOut = Path.Combine(dir.Path, "sst2");
        var err = new StringWriter();
        var log = new StringWriter();
        Sst2App.Run(["--controller", value, "--data", dir.Path, "--out", sstOut], log, err, consoleLogging: false).Should().Be(2);
        output.WriteLine(err.ToString());
        err.ToString().Should().StartWith("error: --controller").And.Contain("energy, loss, paper").And.NotContain("   at ");
        err.ToString().TrimEnd().Split('\n').Should().HaveCount(1, "one error line");
        log.ToString().Should().BeEmpty();
        Directory.Exists(sstOut).Should().BeFalse("nothing is written");

        // SARS-CoV-2 (the app behind its command line).
        var sarsOut = Path.Combine(dir.Path, "sars");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        SarsCov2App.Run(new SarsCov2AppOptions { Data = SarsCov2Data.Directory, Out = sarsOut, Controller = value, Epochs = 1, GridPerClass = 0 },
            stdout, stderr, NullLoggerFactory.Instance).Should().Be(SarsCov2App.UserErrorExitCode);
        output.WriteLine(stderr.ToString());
        stderr.ToString().Should().StartWith("error: --controller").And.Contain("energy, loss, paper").And.NotContain("   at ");
        stderr.ToString().TrimEnd().Split('\n').Should().HaveCount(1, "one error line");
        stdout.ToString().Should().BeEmpty();
        Directory.Exists(sarsOut).Should().BeFalse("nothing is written");
    }

    [Fact]
    public void A_tiny_SST2_run_with_the_loss_preset_records_the_preset_in_results_json()
    {
        using var dir = new TempDirectory();
        var folder = DataPaths.Resolve();
        foreach (var (split, rows) in new[] { ("train", 300), ("dev", 100) })
            File.WriteAllLines(Path.Combine(dir.Path, split + ".tsv"), File.ReadLines(DataPaths.Sst2File(folder, split)).Take(rows + 1));
        var outDir = Path.Combine(dir.Path, "out");
        var log = new StringWriter();
        var err = new StringWriter();

        int code = Sst2App.Run(["--data", dir.Path, "--out", outDir, "--epochs", "1", "--batch-size", "16", "--d-model", "32",
            "--head-dim", "8", "--evals-per-epoch", "1", "--controller", "loss"], log, err, consoleLogging: false);
        output.WriteLine(log.ToString());
        err.ToString().Should().BeEmpty();
        code.Should().Be(0);

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "results.json")));
        var r = json.RootElement;
        r.GetProperty("controllerPreset").GetString().Should().Be("loss");
        var preset = r.GetProperty("controller").GetProperty("preset");
        preset.GetProperty("preset").GetString().Should().Be("loss");
        preset.GetProperty("growth").GetString().Should().Be(nameof(GrowthSignal.LossPlateau));
        preset.GetProperty("prune").GetString().Should().Be(nameof(PruneStatistic.MaskedLoss));
        preset.GetProperty("lossAware").GetProperty("FreezeAtStep").GetInt64().Should().Be(16); // ⌊0.85 · ceil(300 / 16)⌋
        r.GetProperty("settings").GetProperty("Controller").GetString().Should().Be("loss");
    }
}
