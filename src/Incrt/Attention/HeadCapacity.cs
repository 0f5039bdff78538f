using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Incrt.Attention;

/// <summary>
/// Spare room for more heads behind per-head tensors (parameters and their optimizer moments, heads along dim 0), used
/// when <see cref="AttentionOptions.ReserveHeads"/> is set: a tensor that grew once is a prefix view of a buffer with
/// about twice its heads (at most MaxHeads), so the next <see cref="Append"/> writes the new head's slice instead of
/// copying every head into a fresh tensor. Without it a grow copies all parameters and moments (copy-bound on the CPU:
/// 5.1 ms at H = 64, d_k = 64, docs/benchmarks.md).
/// </summary>
/// <remarks>The view starts at the storage's first element and is contiguous, so saving, loading and in-place updates
/// see an ordinary tensor. The room is only used while the tensor still starts where its grown storage started;
/// anything that replaced the storage (a prune, a checkpoint restore) makes the next grow allocate again.</remarks>
internal static class HeadCapacity
{
    /// <summary>Where a grown tensor's storage starts and how many heads it has room for. No tensor is held here, so
    /// the room lives exactly as long as the tensor's own storage.</summary>
    private sealed record Room(nint Start, long Heads);

    private static readonly ConditionalWeakTable<object, Room> Rooms = new();

    /// <summary>
    /// <paramref name="current"/> (heads along dim 0) followed by <paramref name="slice"/> (one head): with
    /// <see cref="AttentionOptions.ReserveHeads"/> a prefix view of a storage with spare heads, else a fresh copy of both.
    /// The caller installs the result (Parameter.set_ or the optimizer's state slot) and, when the identity that will be
    /// passed next time differs from <paramref name="key"/>, calls <see cref="Track"/>.
    /// </summary>
    /// <param name="key">The object that identifies <paramref name="current"/> across calls (the Parameter, whose
    /// object survives set_, or the state tensor installed last time).</param>
    /// <param name="current">The tensor to extend; its values are not modified.</param>
    /// <param name="slice">One head, shape (1, …) matching <paramref name="current"/>'s trailing shape.</param>
    /// <param name="options">The layer's options: whether room is kept (ReserveHeads) and its cap (MaxHeads).</param>
    public static Tensor Append(object key, Tensor current, Tensor slice, AttentionOptions options)
    {
        var s = slice.to(current.dtype, current.device);
        if (!options.ReserveHeads) return cat(new[] { current, s }, 0);
        long heads = current.shape[0], maxHeads = options.MaxHeads;
        var shape = current.shape.ToArray();
        Tensor? buffer = null;
        if (Rooms.TryGetValue(key, out var room) && room.Heads > heads && current.is_contiguous()
            && current.storage_offset() == 0 && Start(current) is { } start && start == room.Start)
        {
            shape[0] = room.Heads;
            // The whole room, allocated with the storage. LibTorch checks the storage's size, so a storage that only
            // happens to start at the same address (the room's was freed) throws here instead of being overrun.
            try { buffer = current.as_strided(shape, Strides(shape)); }
            catch (ExternalException) { Rooms.Remove(key); }
        }
        if (buffer is null)
        {
            shape[0] = Math.Max(heads + 1, Math.Min(2 * (heads + 1), maxHeads));
            buffer = empty(shape, current.dtype, current.device);
            buffer.narrow(0, 0, heads).copy_(current);
            if (Start(buffer) is { } fresh) Rooms.AddOrUpdate(key, new Room(fresh, shape[0]));
        }
        buffer.narrow(0, heads, 1).copy_(s);
        return buffer.narrow(0, 0, heads + 1);
    }

    /// <summary>Lets <paramref name="newKey"/> (e.g. the view just installed in an optimizer slot) find the room
    /// <paramref name="oldKey"/> had.</summary>
    public static void Track(object oldKey, object newKey)
    {
        if (Rooms.TryGetValue(oldKey, out var room)) Rooms.AddOrUpdate(newKey, room);
    }

    /// <summary>Forgets <paramref name="key"/>'s room (its storage was replaced).</summary>
    public static void Forget(object key) => Rooms.Remove(key);

    private static long[] Strides(long[] shape)
    {
        var strides = new long[shape.Length];
        long step = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            strides[i] = step;
            step *= shape[i];
        }
        return strides;
    }

    /// <summary>Address of the tensor's first element (float32/float64; null for other dtypes, which never get room).</summary>
    private static nint? Start(Tensor t) => t.dtype switch
    {
        ScalarType.Float32 => Start<float>(t, 4),
        ScalarType.Float64 => Start<double>(t, 8),
        _ => null,
    };

    private static nint Start<T>(Tensor t, int bytes) where T : unmanaged
    {
        using var storage = t.storage<T>();
        return storage.data_ptr() + (nint)(t.storage_offset() * bytes);
    }
}
