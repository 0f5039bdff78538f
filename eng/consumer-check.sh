#!/usr/bin/env bash
# Consumer check (issue 9): pack Incrt, consume it from a throwaway console project OUTSIDE the repository through a
# local folder feed (plus nuget.org for TorchSharp-cpu), train a tiny classifier with growth for 30 steps and a model
# of the consumer's own (not IncrtClassifier) through Trainer, checkpoint both, and fail on any error. Each run packs a
# unique prerelease version, so the NuGet cache never serves a stale Incrt.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/incrt-consumer.XXXXXX")"
version_suffix="ci.$(date +%s).$$"
cache="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
cleanup() {
  rm -rf "$work"
  # The unique version is useless once checked: drop it from the package cache again.
  rm -rf "$cache/incrt/"*"-$version_suffix"
}
trap cleanup EXIT
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

case "$work" in "$repo"/*) echo "consumer-check: temp dir $work is inside the repository" >&2; exit 1 ;; esac

echo "== pack Incrt (suffix $version_suffix) into $work/feed"
dotnet pack "$repo/src/Incrt/Incrt.csproj" -c Release -o "$work/feed" -p:VersionSuffix="$version_suffix" --nologo -v quiet
nupkg="$(ls "$work/feed"/Incrt.*.nupkg | grep -v '\.snupkg$' | head -n 1)"
test -f "${nupkg%.nupkg}.snupkg" || { echo "consumer-check: no symbols package next to $nupkg" >&2; exit 1; }
version="$(basename "$nupkg" .nupkg)"; version="${version#Incrt.}"
for entry in README.md LICENSE buildTransitive/Incrt.targets buildTransitive/PatchLibTorchSharp.cs lib/net8.0/Incrt.xml lib/net10.0/Incrt.xml; do
  unzip -l "$nupkg" "$entry" > /dev/null || { echo "consumer-check: $entry missing from $nupkg" >&2; exit 1; }
done
echo "   $version OK (README, LICENSE, XML docs, buildTransitive native fix, symbols)"
# Issue 19: the package is the method only. Datasets/tasks (Incrt.Tasks) and theory tools (Incrt.Analysis) stay out.
stray="$(unzip -Z1 "$nupkg" | grep '^lib/' | grep -vE '^lib/net(8|10)\.0/Incrt\.(dll|xml)$' || true)"
test -z "$stray" || { echo "consumer-check: unexpected files in $nupkg: $stray" >&2; exit 1; }
if unzip -p "$nupkg" lib/net10.0/Incrt.xml | grep -E '"[TMPFE]:Incrt\.(Data|Theory|Tasks|Analysis)\.' > /dev/null; then
  echo "consumer-check: $nupkg documents dataset or theory types; they belong to Incrt.Tasks / Incrt.Analysis" >&2; exit 1
fi
echo "   no dataset, simulator or predictor types in the package"

app="$work/app"
mkdir -p "$app"
cat > "$app/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="incrt-local" value="$work/feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
</configuration>
XML
cat > "$app/Consumer.csproj" <<'XML'
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
  </PropertyGroup>
</Project>
XML
cat > "$app/Program.cs" <<'CS'
using Incrt.Attention;
using Incrt.Control;
using Incrt.Energy;
using Incrt.Models;
using Incrt.Persistence;
using Incrt.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

torch.manual_seed(1);
torch.set_num_threads(1);
var control = new ControllerOptions
{
    Interval = 1, CalibrationCalls = 3, MaxDwellCalls = 2, ThetaW = 1e-3,
    Estimator = new EstimatorOptions { EtaPlus = 0.5, Iterations = 8 },
};
using var generator = new Generator(7);
SequenceBatch Batch()
{
    var ids = randint(1, 32, new long[] { 16, 12 }, generator: generator, dtype: ScalarType.Int64);
    return new SequenceBatch(ids, ids.select(1, 1).gt(ids.select(1, 2)).to(ScalarType.Int64));
}

// 1. The package's classifier, trained by hand: controller.Step after optimizer.step().
var options = new IncrtModelOptions(VocabSize: 32, MaxLength: 12, DModel: 16, HeadDim: 4, MaxHeads: 8, Dropout: 0.0, Classes: 2);
using var model = new IncrtClassifier(options);
var optimizer = optim.AdamW(model.parameters().ToArray(), lr: 1e-2);
using var controller = new HeadController(model.GrowableLayers, optimizer, control, model: model);
controller.HeadChanged += (_, e) => Console.WriteLine($"  classifier step {e.Step}: layer {e.Layer} {e.Kind} -> {e.HeadsAfter} heads");
double loss = double.NaN;
for (int step = 0; step < 30; step++)
{
    using var scope = NewDisposeScope();
    using var batch = Batch();
    var output = nn.functional.cross_entropy(model.forward(batch.Ids, batch.KeyPaddingMask), batch.Labels);
    optimizer.zero_grad();
    output.backward();
    optimizer.step();
    loss = output.item<float>();
    controller.Step(step, loss);
}
Console.WriteLine($"classifier: heads {string.Join(",", controller.HeadCounts)}, loss {loss:F4}, parameters {model.ParameterCount()}");
if (!double.IsFinite(loss)) throw new InvalidOperationException("non-finite loss");
if (controller.HeadCounts.Sum() <= options.Layers) throw new InvalidOperationException("the controller never grew a head");
var path = Path.Combine(args[0], "consumer.incrt");
IncrtCheckpoint.Save(path, model, optimizer, controller, new Dictionary<string, string> { ["step"] = "30" });
var loaded = IncrtCheckpoint.Load(path);
using var restored = loaded.Model;
if (!loaded.HeadCounts.SequenceEqual(controller.HeadCounts)) throw new InvalidOperationException("checkpoint head counts differ");
Console.WriteLine($"classifier checkpoint {new FileInfo(path).Length} bytes, heads {string.Join(",", loaded.HeadCounts)}: OK");

// 2. A model of the consumer's own (not IncrtClassifier), trained by the package's Trainer, grown, checkpointed.
using var mine = new MyModel();
var trainer = new Trainer(mine, b => mine.forward(b.Ids), new TrainerOptions { LearningRate = 1e-2, WarmupSteps = 0 });
using var myController = new HeadController(mine.GrowableLayers, trainer.Optimizer, control, model: mine);
trainer.Controller = myController;
for (int step = 0; step < 30; step++)
{
    using var batch = Batch();
    loss = trainer.TrainStep(batch, 30);
}
int heads = mine.GrowableLayers[0].HeadCount;
Console.WriteLine($"own model: heads {heads}, loss {loss:F4}");
if (!double.IsFinite(loss) || heads <= 1) throw new InvalidOperationException("the own model did not train and grow");
var minePath = Path.Combine(args[0], "mine.incrt");
IncrtCheckpoint.Save(minePath, mine, trainer.Optimizer, myController);
using var fresh = new MyModel();
var back = IncrtCheckpoint.LoadInto(minePath, fresh);
using (var probe = Batch())
using (no_grad())
    if (!fresh.forward(probe.Ids).allclose(mine.forward(probe.Ids), rtol: 0, atol: 0)) throw new InvalidOperationException("own-model checkpoint changed the outputs");
var freshOptimizer = optim.AdamW(fresh.parameters().ToArray(), lr: 1e-2);
back.RestoreOptimizer(freshOptimizer);
using var resumed = back.CreateController(freshOptimizer);
Console.WriteLine($"own-model checkpoint {new FileInfo(minePath).Length} bytes, heads {fresh.GrowableLayers[0].HeadCount}, controller calls {resumed.Calls}: OK");

/// <summary>The consumer's own model: embedding, one growable attention layer with a residual, mean pooling, read-out.</summary>
sealed class MyModel : nn.Module<Tensor, Tensor>, IGrowableModel
{
    private readonly Embedding embed;
    private readonly GrowableMultiHeadAttention attn;
    private readonly Linear readout;

    public MyModel() : base("my_model")
    {
        embed = nn.Embedding(32, 16);
        attn = new GrowableMultiHeadAttention(new AttentionOptions(DModel: 16, HeadDim: 4, MaxHeads: 8, Seed: 3));
        readout = nn.Linear(16, 2);
        RegisterComponents();
    }

    public IReadOnlyList<GrowableMultiHeadAttention> GrowableLayers => new[] { attn };

    public override Tensor forward(Tensor ids)
    {
        using var scope = NewDisposeScope();
        var x = embed.call(ids);
        return readout.call((x + attn.forward(x)).mean(new long[] { 1 })).MoveToOuterDisposeScope();
    }
}
CS

echo "== consumer project in $app"
cd "$app"
dotnet add package Incrt --version "$version" --source "$work/feed" > /dev/null
dotnet add package TorchSharp-cpu --version 0.107.0 > /dev/null
dotnet build -c Release --nologo -v quiet
dotnet run -c Release --no-build -- "$work"
echo "== consumer check passed ($version)"
