using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Incrt.Control;
using Incrt.Models;

namespace Incrt.Persistence;

/// <summary>The JSON manifest stored at the head of a checkpoint file (see <see cref="IncrtCheckpoint"/>).</summary>
internal sealed class CheckpointManifest
{
    public string Format { get; set; } = IncrtCheckpoint.FormatId;
    public int FormatVersion { get; set; } = IncrtCheckpoint.FormatVersion;
    public string? Library { get; set; }
    public DateTimeOffset CreatedUtc { get; set; }
    public string ModelType { get; set; } = nameof(IncrtClassifier);
    public IncrtModelOptions? Model { get; set; }
    public List<LayerManifest> Layers { get; set; } = new();
    public long WeightsBytes { get; set; }
    public OptimizerManifest? Optimizer { get; set; }
    public ControllerManifest? Controller { get; set; }
    public byte[]? GlobalRngState { get; set; }
    public Dictionary<string, string> Metadata { get; set; } = new();
}

/// <summary>Head layout of one growable layer.</summary>
internal sealed class LayerManifest
{
    public int HeadCount { get; set; }
    public List<long> HeadIds { get; set; } = new();
    public long NextHeadId { get; set; }
    public byte[]? GeneratorState { get; set; }
    // Widths and cap of the layer (written since the checkpoint of user-defined models; absent in older files).
    public long? DModel { get; set; }
    public long? HeadDim { get; set; }
    public int? MaxHeads { get; set; }
}

/// <summary>Optimizer kind, hyper-parameters (informational) and the size of its TorchSharp state blob.</summary>
internal sealed class OptimizerManifest
{
    public string Kind { get; set; } = "";
    public int ParameterCount { get; set; }
    public List<Dictionary<string, object?>> ParamGroups { get; set; } = new();
    public long StateBytes { get; set; }
}

/// <summary>Controller settings and state.</summary>
internal sealed class ControllerManifest
{
    public ControllerOptions? Options { get; set; }
    public int TraceRows { get; set; }
    public ControllerState? State { get; set; }
}

internal static class ManifestJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
        WriteIndented = false,
    };
}

/// <summary>
/// Settings whose default changed after checkpoints were written without them: a missing field must mean the behaviour
/// the checkpoint was trained with, not today's default, so that a resumed run continues as it began.
/// </summary>
internal static class ManifestUpgrades
{
    /// <summary>Applies every upgrade to <paramref name="manifest"/>, read from <paramref name="json"/>.</summary>
    public static void Apply(CheckpointManifest manifest, ReadOnlySpan<byte> json)
    {
        if (manifest.Controller?.Options is not { } options) return;
        var lossAware = JsonNode.Parse(json)?["controller"]?["options"]?["lossAware"] as JsonObject;
        // LossAwareOptions.PruneProbeHeads came with a default of 4; before, every prune check masked every head.
        if (lossAware is not null && !lossAware.ContainsKey("pruneProbeHeads"))
            options = options with { LossAware = options.LossAware with { PruneProbeHeads = null } };
        // LossAwareOptions.MaxPruneEverySteps came with a default of 3200; before, checks never spaced out.
        if (lossAware is not null && !lossAware.ContainsKey("maxPruneEverySteps"))
            options = options with { LossAware = options.LossAware with { MaxPruneEverySteps = null } };
        manifest.Controller.Options = options;
    }
}
