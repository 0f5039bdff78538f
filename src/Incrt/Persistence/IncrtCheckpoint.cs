using System.Buffers.Binary;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Incrt.Control;
using Incrt.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Incrt.Persistence;

/// <summary>
/// Saves and loads a whole INCRT training state — model weights with the current per-layer head layout, optimizer
/// state and controller state — in ONE file, so that training resumes exactly (same next losses and decisions).
/// </summary>
/// <remarks>
/// <para>File layout (little-endian): the 8-byte signature <c>INCRTCKP</c>, the format version (int32, currently 1),
/// then three length-prefixed (int64) sections — the UTF-8 JSON manifest, the model weights (TorchSharp
/// <c>module.save</c> format) and the optimizer state (TorchSharp <c>save_state_dict</c> format, empty when no
/// optimizer was saved) — and finally the SHA-256 of every preceding byte.</para>
/// <para>The manifest (format id <c>incrt-checkpoint</c>) holds the <see cref="IncrtModelOptions"/>, every layer's head
/// ids, next head id and head-initialisation generator state, the controller's options and state (Q, u+, u−,
/// calibration, thresholds, Γ(0), counters, prune counters, birth calls, Q column owners, trace rows), the optimizer
/// kind and hyper-parameters, the global CPU random-generator state and the user metadata.</para>
/// <para>Loading rebuilds the architecture from the manifest first (the saved head counts), because TorchSharp's
/// <c>load</c> copies into existing tensors and rejects any shape mismatch.</para>
/// <para>Saving is atomic: the file is written to a temporary file in the same folder and renamed over the target, so
/// a failed save leaves any previous checkpoint intact.</para>
/// </remarks>
public static class IncrtCheckpoint
{
    /// <summary>The manifest's format id.</summary>
    public const string FormatId = "incrt-checkpoint";

    /// <summary>The format version this library writes and reads.</summary>
    public const int FormatVersion = 1;

    private static readonly byte[] Signature = "INCRTCKP"u8.ToArray();
    private const int HashBytes = 32;
    private const int HeaderBytes = 12;

    /// <summary>Test hook: runs after part of the temporary file has been written (failure injection).</summary>
    internal static Action<string>? FaultInjection { get; set; }

    /// <summary>
    /// Writes <paramref name="model"/> (and optionally <paramref name="optimizer"/> and <paramref name="controller"/>
    /// state) to <paramref name="path"/>, atomically replacing any existing file.
    /// </summary>
    /// <param name="path">Target file; its folder is created if needed.</param>
    /// <param name="model">The model, with whatever head counts it has now: an <see cref="IncrtClassifier"/> (rebuilt by
    /// <see cref="Load"/>) or any module of yours that lists its growable layers (restored by <see cref="LoadInto"/>).</param>
    /// <param name="optimizer">The optimizer over <c>model.parameters()</c> (Adam, AdamW, SGD or another managed
    /// TorchSharp optimizer), or null.</param>
    /// <param name="controller">The controller over <c>model.GrowableLayers</c> (same layers, same order), or null.</param>
    /// <param name="metadata">User key/value pairs stored in the manifest (e.g. step, epoch, run id).</param>
    /// <exception cref="ArgumentException">The controller does not control exactly the model's growable layers, the
    /// optimizer does not own exactly the model's parameters, or a metadata key is empty.</exception>
    /// <exception cref="NotSupportedException">The optimizer keeps its state in native code.</exception>
    public static void Save<TModel>(string path, TModel model, optim.Optimizer? optimizer = null, HeadController? controller = null,
        IReadOnlyDictionary<string, string>? metadata = null) where TModel : nn.Module, IGrowableModel
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(model);
        var layers = model.GrowableLayers;
        if (controller is not null && !controller.Layers.SequenceEqual(layers))
            throw new ArgumentException("The controller must control exactly the model's growable layers, in order.", nameof(controller));
        if (metadata is not null && metadata.Any(kv => string.IsNullOrEmpty(kv.Key) || kv.Value is null))
            throw new ArgumentException("Metadata keys must be non-empty and values non-null.", nameof(metadata));

        var manifest = new CheckpointManifest
        {
            Library = typeof(IncrtCheckpoint).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion,
            CreatedUtc = DateTimeOffset.UtcNow,
            ModelType = ModelTypeOf(model),
            Model = (model as IncrtClassifier)?.Options,
            Layers = layers.Select(l => new LayerManifest
            {
                HeadCount = l.HeadCount, HeadIds = l.HeadIds.ToList(), NextHeadId = l.NextHeadId, GeneratorState = l.ExportGeneratorState(),
                DModel = l.DModel, HeadDim = l.HeadDim, MaxHeads = l.Options.MaxHeads,
            }).ToList(),
            Metadata = metadata?.ToDictionary(kv => kv.Key, kv => kv.Value) ?? new(),
        };
        using (var rng = torch.get_rng_state()) manifest.GlobalRngState = rng.cpu().data<byte>().ToArray();

        byte[] weights;
        using (var ms = new MemoryStream())
        {
            using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true)) model.save(w);
            weights = ms.ToArray();
        }
        manifest.WeightsBytes = weights.Length;

        byte[] optimizerState = Array.Empty<byte>();
        if (optimizer is not null)
        {
            if (optimizer is not OptimizerHelper managed)
                throw new NotSupportedException($"{optimizer.GetType().Name} keeps its state in native code and cannot be saved; use Adam, AdamW or SGD.");
            var owned = managed.parameters().ToList();
            var mine = model.parameters().ToList();
            if (owned.Count != mine.Count || owned.Zip(mine).Any(p => p.First.Handle != p.Second.Handle))
                throw new ArgumentException("The optimizer must own exactly the model's parameters, in model.parameters() order.", nameof(optimizer));
            using (var ms = new MemoryStream())
            {
                using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true)) managed.save_state_dict(w);
                optimizerState = ms.ToArray();
            }
            manifest.Optimizer = new OptimizerManifest
            {
                Kind = optimizer.GetType().Name,
                ParameterCount = owned.Count,
                ParamGroups = managed.state_dict().Options.Select(HyperParameters).ToList(),
                StateBytes = optimizerState.Length,
            };
        }

        if (controller is not null)
        {
            var state = controller.ExportState();
            manifest.Controller = new ControllerManifest { Options = controller.Options, TraceRows = state.Trace.Count, State = state };
        }

        byte[] json = JsonSerializer.SerializeToUtf8Bytes(manifest, ManifestJson.Options);
        WriteAtomically(Path.GetFullPath(path), json, weights, optimizerState);
    }

    /// <summary>
    /// Loads a checkpoint: validates the file, rebuilds an <see cref="IncrtClassifier"/> with the saved options and head
    /// layout on <paramref name="device"/>, and loads the weights. Optimizer and controller state are restored on
    /// request through the returned <see cref="LoadedCheckpoint"/>.
    /// </summary>
    /// <param name="path">The checkpoint file.</param>
    /// <param name="device">Device of the rebuilt model (default CPU).</param>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="CheckpointException">Corrupt, truncated, foreign or version-mismatched file, or weights that do
    /// not fit the manifest's architecture.</exception>
    public static LoadedCheckpoint Load(string path, Device? device = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var file = ReadContainer(path);
        if (file.Manifest.ModelType != nameof(IncrtClassifier))
            throw new CheckpointException(path, $"it holds a {file.Manifest.ModelType}, which this library cannot rebuild: build that model and call IncrtCheckpoint.LoadInto.");
        var model = new IncrtClassifier(file.Manifest.Model!, device);
        try
        {
            ApplyLayoutAndWeights(path, file, model, model.GrowableLayers);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return new LoadedCheckpoint(path, file.Manifest, model, model.GrowableLayers, file.OptimizerState);
    }

    /// <summary>
    /// Loads a checkpoint into an existing <paramref name="model"/> of the saved type — an <see cref="IncrtClassifier"/>
    /// built with the same <see cref="IncrtModelOptions"/>, or your own module built the same way as the saved one: its
    /// growable layers are resized to the saved head layout, then the weights are loaded. Build (or rebuild) the
    /// optimizer and controller afterwards, because the per-head parameters change shape.
    /// </summary>
    /// <param name="path">The checkpoint file.</param>
    /// <param name="model">The model to overwrite.</param>
    /// <exception cref="CheckpointException">The file is invalid (the model is then unchanged), its architecture (options)
    /// differs from the model's (the message names the differing settings; the model is unchanged), or its weights do not
    /// fit the saved layout (the model's head layout may then already have been changed).</exception>
    public static LoadedCheckpoint LoadInto<TModel>(string path, TModel model) where TModel : nn.Module, IGrowableModel
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(model);
        var file = ReadContainer(path);
        CheckArchitecture(path, file.Manifest, model);
        ApplyLayoutAndWeights(path, file, model, model.GrowableLayers);
        return new LoadedCheckpoint(path, file.Manifest, model, model.GrowableLayers, file.OptimizerState);
    }

    /// <summary>The manifest's name of <paramref name="model"/>'s type (the classifier keeps its historical short name).</summary>
    private static string ModelTypeOf(nn.Module model) => model is IncrtClassifier ? nameof(IncrtClassifier) : model.GetType().FullName!;

    private static void CheckArchitecture(string path, CheckpointManifest m, nn.Module model)
    {
        string type = ModelTypeOf(model);
        if (m.ModelType != type)
            throw new CheckpointException(path, $"model type mismatch: the file holds a {m.ModelType}; the model is a {type}.");
        if (model is IncrtClassifier classifier)
        {
            var options = m.Model!;
            if (options != classifier.Options)
            {
                var diffs = typeof(IncrtModelOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance)
                    .Where(p => p.GetIndexParameters().Length == 0 && !Equals(p.GetValue(options), p.GetValue(classifier.Options)))
                    .Select(p => $"{p.Name} {p.GetValue(options)} in the file vs {p.GetValue(classifier.Options)} in the model");
                throw new CheckpointException(path, "architecture mismatch: " + string.Join("; ", diffs) + ".");
            }
        }
        var layers = ((IGrowableModel)model).GrowableLayers;
        if (m.Layers.Count != layers.Count)
            throw new CheckpointException(path, $"architecture mismatch: {m.Layers.Count} growable layers in the file vs {layers.Count} in the model.");
        for (int i = 0; i < layers.Count; i++)
        {
            var (l, saved) = (layers[i], m.Layers[i]);
            if ((saved.DModel ?? l.DModel) != l.DModel || (saved.HeadDim ?? l.HeadDim) != l.HeadDim)
                throw new CheckpointException(path, $"architecture mismatch: layer {i} is d_model {saved.DModel}, d_k {saved.HeadDim} in the file vs {l.DModel}, {l.HeadDim} in the model.");
            if (saved.HeadCount > l.Options.MaxHeads)
                throw new CheckpointException(path, $"architecture mismatch: layer {i} has {saved.HeadCount} heads in the file; the model's MaxHeads is {l.Options.MaxHeads}.");
        }
    }

    private static void ApplyLayoutAndWeights(string path, ContainerFile file, nn.Module model, IReadOnlyList<Attention.GrowableMultiHeadAttention> layers)
    {
        try
        {
            for (int i = 0; i < layers.Count; i++)
            {
                var lm = file.Manifest.Layers[i];
                layers[i].ResetHeads(lm.HeadIds, lm.NextHeadId);
                if (lm.GeneratorState is not null) layers[i].ImportGeneratorState(lm.GeneratorState);
            }
            using var ms = new MemoryStream(file.Weights, writable: false);
            using var reader = new BinaryReader(ms);
            model.load(reader, strict: true);
            if (ms.Position != ms.Length) throw new InvalidDataException($"{ms.Length - ms.Position} bytes of the weights section were not consumed.");
        }
        catch (Exception e) when (e is not CheckpointException)
        {
            throw new CheckpointException(path, $"the weights do not fit the architecture described by the manifest: {e.Message}", e);
        }
    }

    private static Dictionary<string, object?> HyperParameters(OptimizerOptions options)
    {
        var result = new Dictionary<string, object?>();
        var t = options.GetType();
        foreach (var f in t.GetFields(BindingFlags.Public | BindingFlags.Instance))
            if (IsSimple(f.FieldType)) result[f.Name] = f.GetValue(options);
        foreach (var p in t.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            if (p.GetIndexParameters().Length == 0 && IsSimple(p.PropertyType)) result[p.Name] = p.GetValue(options);
        return result;

        static bool IsSimple(Type type)
        {
            var u = Nullable.GetUnderlyingType(type) ?? type;
            return u.IsPrimitive || u.IsEnum || u == typeof(string) || u == typeof(decimal);
        }
    }

    // ---------------------------------------------------------------- container

    private static void WriteAtomically(string full, byte[] manifest, byte[] weights, byte[] optimizer)
    {
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            using (var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
            {
                void Put(ReadOnlySpan<byte> bytes)
                {
                    fs.Write(bytes);
                    sha.AppendData(bytes);
                }
                Span<byte> num = stackalloc byte[8];
                Put(Signature);
                BinaryPrimitives.WriteInt32LittleEndian(num, FormatVersion);
                Put(num[..4]);
                foreach (var section in new[] { manifest, weights })
                {
                    BinaryPrimitives.WriteInt64LittleEndian(num, section.Length);
                    Put(num);
                    Put(section);
                }
                FaultInjection?.Invoke(tmp);
                BinaryPrimitives.WriteInt64LittleEndian(num, optimizer.Length);
                Put(num);
                Put(optimizer);
                fs.Write(sha.GetHashAndReset());
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    internal sealed record ContainerFile(CheckpointManifest Manifest, byte[] Weights, byte[]? OptimizerState);

    internal static ContainerFile ReadContainer(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Checkpoint '{path}' does not exist.", path);
        byte[] data = File.ReadAllBytes(path);
        if (data.Length == 0) throw new CheckpointException(path, "the file is empty.");
        if (data.Length < Signature.Length || !data.AsSpan(0, Signature.Length).SequenceEqual(Signature))
        {
            bool prefix = data.Length < Signature.Length && Signature.AsSpan(0, data.Length).SequenceEqual(data);
            if (prefix) throw new CheckpointException(path, $"the file is truncated ({data.Length} bytes).");
            string hint = data[0] == (byte)'{' ? " (it looks like a JSON document)" : "";
            throw new CheckpointException(path, $"not an Incrt checkpoint{hint}: the file does not start with the 'INCRTCKP' signature.");
        }
        if (data.Length < HeaderBytes) throw new CheckpointException(path, $"the file is truncated ({data.Length} bytes, header incomplete).");
        int version = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(8, 4));
        if (version != FormatVersion)
            throw new CheckpointException(path, $"format version {version} is not supported; this library reads version {FormatVersion}.");

        long pos = HeaderBytes;
        var sections = new byte[3][];
        string[] names = { "manifest", "weights", "optimizer state" };
        for (int s = 0; s < 3; s++)
        {
            if (data.Length - pos < 8)
                throw new CheckpointException(path, $"the file is truncated: it ends ({data.Length} bytes) before the {names[s]} section.");
            long len = BinaryPrimitives.ReadInt64LittleEndian(data.AsSpan((int)pos, 8));
            pos += 8;
            if (len < 0)
                throw new CheckpointException(path, $"the file is corrupt: the {names[s]} section claims {len} bytes.");
            if (data.Length - pos < len)
                throw new CheckpointException(path, $"the file is truncated: the {names[s]} section needs {len} bytes, only {data.Length - pos} remain.");
            sections[s] = data.AsSpan((int)pos, (int)len).ToArray();
            pos += len;
        }
        long rest = data.Length - pos;
        if (rest < HashBytes) throw new CheckpointException(path, $"the file is truncated: the {HashBytes}-byte checksum is incomplete ({rest} bytes).");
        if (rest > HashBytes) throw new CheckpointException(path, $"the file is corrupt: {rest - HashBytes} unexpected bytes after the checksum.");
        var expected = SHA256.HashData(data.AsSpan(0, (int)pos));
        if (!expected.AsSpan().SequenceEqual(data.AsSpan((int)pos, HashBytes)))
            throw new CheckpointException(path, "the file is corrupt: the SHA-256 checksum does not match its content.");

        CheckpointManifest? manifest;
        try { manifest = JsonSerializer.Deserialize<CheckpointManifest>(sections[0], ManifestJson.Options); }
        catch (Exception e) when (e is JsonException or NotSupportedException or ArgumentException or InvalidOperationException)
        {
            throw new CheckpointException(path, $"the manifest cannot be read: {e.Message}", e);
        }
        ValidateManifest(path, manifest, sections[1].Length, sections[2].Length);
        ManifestUpgrades.Apply(manifest!, sections[0]);
        return new ContainerFile(manifest!, sections[1], sections[2].Length == 0 ? null : sections[2]);
    }

    private static void ValidateManifest(string path, CheckpointManifest? m, long weightsBytes, long optimizerBytes)
    {
        if (m is null) throw new CheckpointException(path, "the manifest is empty.");
        if (m.Format != FormatId) throw new CheckpointException(path, $"foreign manifest format '{m.Format}'; expected '{FormatId}'.");
        if (m.FormatVersion != FormatVersion)
            throw new CheckpointException(path, $"manifest format version {m.FormatVersion} is not supported; this library reads version {FormatVersion}.");
        if (string.IsNullOrEmpty(m.ModelType)) throw new CheckpointException(path, "the manifest names no model type.");
        bool classifier = m.ModelType == nameof(IncrtClassifier);
        if (classifier)
        {
            if (m.Model is null) throw new CheckpointException(path, "the manifest has no model options.");
            try { m.Model.Validate(); }
            catch (ArgumentException e) { throw new CheckpointException(path, $"invalid model options: {e.Message}", e); }
        }
        if (m.Layers is null || m.Layers.Count == 0 || (classifier && m.Layers.Count != m.Model!.Layers))
            throw new CheckpointException(path, $"the manifest lists {m.Layers?.Count ?? 0} layers; the options say {m.Model?.Layers.ToString() ?? "at least 1"}.");
        for (int i = 0; i < m.Layers.Count; i++)
        {
            var l = m.Layers[i];
            int cap = m.Model?.MaxHeads ?? l?.MaxHeads ?? int.MaxValue;
            if (l?.HeadIds is null || l.HeadIds.Count < 1 || l.HeadIds.Count > cap || l.HeadIds.Count != l.HeadCount)
                throw new CheckpointException(path, $"layer {i}: invalid head layout (count {l?.HeadCount}, {l?.HeadIds?.Count ?? 0} ids, MaxHeads {cap}).");
            if (l.HeadIds.Distinct().Count() != l.HeadIds.Count || l.HeadIds.Any(id => id < 0 || id >= l.NextHeadId))
                throw new CheckpointException(path, $"layer {i}: head ids must be distinct and in [0, next head id {l.NextHeadId}).");
        }
        if (m.WeightsBytes != weightsBytes)
            throw new CheckpointException(path, $"the manifest expects {m.WeightsBytes} weight bytes; the section holds {weightsBytes}.");
        if ((m.Optimizer?.StateBytes ?? 0) != optimizerBytes)
            throw new CheckpointException(path, $"the manifest expects {m.Optimizer?.StateBytes ?? 0} optimizer bytes; the section holds {optimizerBytes}.");
        if (m.Controller is not null && (m.Controller.Options is null || m.Controller.State is null || m.Controller.State.Layers?.Count != m.Layers.Count))
            throw new CheckpointException(path, "the controller section is incomplete.");
        m.Metadata ??= new();
    }
}
