using Incrt.Attention;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Incrt.Surgery;

/// <summary>
/// Changes a layer's head count and resizes the optimizer's per-parameter state in the same operation
/// (docs/algorithm.md §5): kept heads' parameters and moments stay bit-identical, new heads' state is zero (or warm
/// started), and the optimizer keeps working because the <see cref="Parameter"/> objects it holds are the same.
/// </summary>
public static class HeadSurgery
{
    private static readonly List<IOptimizerStateAdapter> Adapters = new()
    {
        new AdamStateAdapter(), new AdamWStateAdapter(), new SgdStateAdapter(),
    };

    /// <summary>Adds support for another optimizer's state layout.</summary>
    public static void RegisterAdapter(IOptimizerStateAdapter adapter)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        lock (Adapters) Adapters.Insert(0, adapter);
    }

    /// <summary>Appends one head to <paramref name="layer"/> and the matching zero (or warm) state to
    /// <paramref name="optimizer"/>. Returns the new head's index.</summary>
    /// <param name="layer">The growable layer.</param>
    /// <param name="optimizer">The optimizer that owns the layer's parameters, or null when not training.</param>
    /// <param name="init">New-head initialisation.</param>
    /// <param name="moments">What the new head's optimizer state starts from.</param>
    /// <exception cref="ArgumentException">The optimizer does not own every per-head parameter of the layer.</exception>
    /// <exception cref="NotSupportedException">No adapter knows the optimizer's state type.</exception>
    public static int AddHead(GrowableMultiHeadAttention layer, optim.Optimizer? optimizer, HeadInit init,
        NewHeadMoments moments = NewHeadMoments.Zero)
    {
        ArgumentNullException.ThrowIfNull(layer);
        var slots = optimizer is null ? null : CollectSlots(layer, optimizer);  // validate before anything changes
        int index = layer.AddHead(init);
        if (slots is null) return index;
        using var scope = NewDisposeScope();
        foreach (var slot in slots)
        {
            var old = slot.Get();
            if (old is null) continue;
            var fresh = moments == NewHeadMoments.WarmStart && slot.WarmStartable
                ? old.mean(new long[] { 0 }, keepdim: true)
                : zeros_like(old.narrow(0, 0, 1));
            // Into the moment's spare room when the layer keeps some (ReserveHeads), else a copy of every head.
            var grown = HeadCapacity.Append(old, old, fresh, layer.Options);
            HeadCapacity.Track(old, grown);
            Store(slot, old, grown);
        }
        return index;
    }

    /// <summary>Removes the heads at <paramref name="indices"/> from <paramref name="layer"/> and their slices from
    /// <paramref name="optimizer"/>'s state.</summary>
    /// <param name="layer">The growable layer.</param>
    /// <param name="optimizer">The optimizer that owns the layer's parameters, or null when not training.</param>
    /// <param name="indices">Head positions to remove (not ids).</param>
    public static void RemoveHeads(GrowableMultiHeadAttention layer, optim.Optimizer? optimizer, IReadOnlyCollection<int> indices)
    {
        ArgumentNullException.ThrowIfNull(layer);
        var keep = layer.KeptIndices(indices);
        var slots = optimizer is null ? null : CollectSlots(layer, optimizer);
        layer.RemoveHeads(indices);
        if (slots is null) return;
        using var scope = NewDisposeScope();
        // Optimizer state lives beside its parameter, on the layer's device: one index tensor serves every slot.
        var keepT = tensor(keep.Select(i => (long)i).ToArray(), device: layer.Device);
        foreach (var slot in slots)
        {
            var old = slot.Get();
            if (old is null) continue;
            Store(slot, old, old.index_select(0, keepT.to(old.device)));
        }
    }

    /// <summary>The state tensors (per slot) of every per-head parameter of <paramref name="layer"/>.</summary>
    internal static List<StateSlot> CollectSlots(GrowableMultiHeadAttention layer, optim.Optimizer optimizer)
    {
        if (optimizer is not OptimizerHelper managed)
            throw new NotSupportedException(
                $"{optimizer.GetType().Name} keeps its state in native code, which cannot be resized; use Adam, AdamW or SGD.");
        var owned = managed.parameters().ToList();
        var states = managed.state_dict().State;
        var result = new List<StateSlot>();
        foreach (var p in layer.PerHeadParameters)
        {
            int i = owned.FindIndex(q => q.Handle == p.Handle);
            if (i < 0)
                throw new ArgumentException(
                    $"The optimizer ({optimizer.GetType().Name}) does not own the layer's parameter of shape ({string.Join(", ", p.shape)}). " +
                    "Build the optimizer over the model's parameters (materialised, e.g. model.parameters().ToArray()).", nameof(optimizer));
            var state = states[i];
            IOptimizerStateAdapter? adapter;
            lock (Adapters) adapter = Adapters.FirstOrDefault(a => a.CanHandle(state));
            if (adapter is null)
                throw new NotSupportedException(
                    $"No optimizer-state adapter for {state.GetType().FullName}; supported: Adam, AdamW, SGD. Register one with HeadSurgery.RegisterAdapter.");
            result.AddRange(adapter.Slots(state));
        }
        return result;
    }

    private static void Store(StateSlot slot, Tensor old, Tensor replacement)
    {
        // Optimizer state lives outside every dispose scope; the old tensor is ours to free.
        slot.Set(replacement.DetachFromDisposeScope());
        old.Dispose();
    }
}
