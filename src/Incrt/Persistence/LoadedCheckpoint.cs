using System.Text;
using Incrt.Control;
using Incrt.Models;
using Microsoft.Extensions.Logging;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Incrt.Persistence;

/// <summary>
/// The result of <see cref="IncrtCheckpoint.Load"/>: the rebuilt model with its weights, the metadata, and methods
/// that restore the optimizer, controller and random-generator state to resume training exactly.
/// </summary>
/// <remarks>To resume: build an optimizer of the same kind over <c>Module.parameters().ToArray()</c> and call
/// <see cref="RestoreOptimizer"/>; call <see cref="CreateController"/>; call <see cref="RestoreRandomState"/> if the model
/// uses dropout; then continue with the next step number.</remarks>
public sealed class LoadedCheckpoint
{
    private readonly CheckpointManifest _manifest;
    private readonly byte[]? _optimizerState;

    internal LoadedCheckpoint(string path, CheckpointManifest manifest, nn.Module module, IReadOnlyList<Attention.GrowableMultiHeadAttention> layers,
        byte[]? optimizerState)
    {
        Path = path;
        _manifest = manifest;
        _optimizerState = optimizerState;
        Module = module;
        GrowableLayers = layers;
    }

    /// <summary>The file this checkpoint was read from.</summary>
    public string Path { get; }

    /// <summary>The classifier, rebuilt with the saved head layout and weights (<see cref="IncrtCheckpoint.Load"/>), or
    /// the classifier given to <see cref="IncrtCheckpoint.LoadInto"/>. The caller owns (and disposes) it.</summary>
    /// <exception cref="InvalidOperationException">The checkpoint was loaded into a model of another type: use
    /// <see cref="Module"/>.</exception>
    public IncrtClassifier Model => Module as IncrtClassifier
        ?? throw new InvalidOperationException($"The checkpoint was loaded into a {Module.GetType().Name}, not an IncrtClassifier: use Module.");

    /// <summary>The loaded model, whatever its type.</summary>
    public nn.Module Module { get; }

    /// <summary>The model's growable layers, with the saved head layout.</summary>
    public IReadOnlyList<Attention.GrowableMultiHeadAttention> GrowableLayers { get; }

    /// <summary>The user metadata given to <see cref="IncrtCheckpoint.Save"/>.</summary>
    public IReadOnlyDictionary<string, string> Metadata => _manifest.Metadata;

    /// <summary>When the checkpoint was written (UTC).</summary>
    public DateTimeOffset CreatedUtc => _manifest.CreatedUtc;

    /// <summary>The library version that wrote the checkpoint, if recorded.</summary>
    public string? LibraryVersion => _manifest.Library;

    /// <summary>Head count of every growable layer, as saved.</summary>
    public IReadOnlyList<int> HeadCounts => _manifest.Layers.Select(l => l.HeadCount).ToList();

    /// <summary>The optimizer's type name (e.g. <c>AdamW</c>), or null when no optimizer was saved.</summary>
    public string? OptimizerKind => _manifest.Optimizer?.Kind;

    /// <summary>Whether the checkpoint holds controller state.</summary>
    public bool HasControllerState => _manifest.Controller is not null;

    /// <summary>The saved controller settings, or null.</summary>
    public ControllerOptions? ControllerOptions => _manifest.Controller?.Options;

    /// <summary>The manifest as JSON (for inspection and logs).</summary>
    public string ManifestJson => Encoding.UTF8.GetString(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(_manifest, Persistence.ManifestJson.Options));

    /// <summary>
    /// Restores the saved optimizer state (moments, step counts, learning rates and other hyper-parameters) into
    /// <paramref name="optimizer"/>, which must be of the saved kind and built over <c>Module.parameters()</c> in order.
    /// </summary>
    /// <exception cref="CheckpointException">No optimizer state was saved, a different optimizer kind, or the state does
    /// not fit the optimizer's parameters.</exception>
    public void RestoreOptimizer(optim.Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (_optimizerState is null || _manifest.Optimizer is null)
            throw new CheckpointException(Path, "no optimizer state was saved.");
        if (optimizer.GetType().Name != _manifest.Optimizer.Kind)
            throw new CheckpointException(Path, $"the optimizer state is for {_manifest.Optimizer.Kind}; got {optimizer.GetType().Name}.");
        if (optimizer is not OptimizerHelper managed)
            throw new CheckpointException(Path, $"{optimizer.GetType().Name} keeps its state in native code and cannot be restored.");
        var owned = managed.parameters().ToList();
        var mine = Module.parameters().ToList();
        if (owned.Count != mine.Count || owned.Zip(mine).Any(p => p.First.Handle != p.Second.Handle))
            throw new CheckpointException(Path, "the optimizer must be built over exactly Model.parameters(), in order.");
        try
        {
            using var ms = new MemoryStream(_optimizerState, writable: false);
            using var reader = new BinaryReader(ms);
            managed.load_state_dict(reader);
            if (ms.Position != ms.Length) throw new InvalidDataException($"{ms.Length - ms.Position} bytes of optimizer state were not consumed.");
        }
        catch (Exception e) when (e is not CheckpointException)
        {
            throw new CheckpointException(Path, $"the optimizer state does not fit: {e.Message}", e);
        }
    }

    /// <summary>
    /// Creates a controller over <see cref="GrowableLayers"/> with the saved options and state (calibration, thresholds,
    /// Q, tracker vectors, counters, trace), resizing <paramref name="optimizer"/>'s state on every change.
    /// </summary>
    /// <param name="optimizer">The optimizer (already restored with <see cref="RestoreOptimizer"/>), or null.</param>
    /// <param name="logger">Receives decisions.</param>
    /// <exception cref="CheckpointException">No controller state was saved, or it does not fit the model.</exception>
    public HeadController CreateController(optim.Optimizer? optimizer, ILogger? logger = null)
    {
        var saved = _manifest.Controller ?? throw new CheckpointException(Path, "no controller state was saved.");
        var controller = new HeadController(GrowableLayers, optimizer, saved.Options, logger, Module);
        try
        {
            RestoreController(controller);
            return controller;
        }
        catch
        {
            controller.Dispose();
            throw;
        }
    }

    /// <summary>Restores the saved controller state into <paramref name="controller"/>, which must control
    /// <see cref="GrowableLayers"/> in order and must not have been called yet. Its own options are kept.</summary>
    /// <exception cref="CheckpointException">No controller state was saved, or it does not fit.</exception>
    public void RestoreController(HeadController controller)
    {
        ArgumentNullException.ThrowIfNull(controller);
        var saved = _manifest.Controller ?? throw new CheckpointException(Path, "no controller state was saved.");
        if (!controller.Layers.SequenceEqual(GrowableLayers))
            throw new CheckpointException(Path, "the controller must control exactly Model.GrowableLayers, in order.");
        try { controller.ImportState(saved.State!); }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw new CheckpointException(Path, $"the controller state does not fit: {e.Message}", e);
        }
    }

    /// <summary>Restores torch's global CPU random-generator state as it was at save time (dropout masks and any other
    /// draws from the default generator then continue as in the uninterrupted run).</summary>
    public void RestoreRandomState()
    {
        if (_manifest.GlobalRngState is null) return;
        using var state = torch.tensor(_manifest.GlobalRngState, ScalarType.Byte);
        torch.set_rng_state(state);
    }
}
