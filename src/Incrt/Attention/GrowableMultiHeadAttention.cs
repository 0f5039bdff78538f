using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Incrt.Attention;

/// <summary>
/// Batch-first multi-head self-attention whose head count can change while it trains (docs/algorithm.md §1, §5).
/// Input and output are <c>(B, T, d_model)</c>.
/// </summary>
/// <remarks>
/// <para>Per-head parameters are stacked with the head as the leading dimension, so the forward pass is one projection
/// matmul, one fused <c>scaled_dot_product_attention</c> call and one output matmul, whatever the head count:</para>
/// <list type="bullet">
/// <item><c>in_proj_weight</c> (H, 3, d_model, d_k): W_Q,h, W_K,h, W_V,h, with q = x W_Q,h.</item>
/// <item><c>in_proj_bias</c> (H, 3, d_k), when <see cref="AttentionOptions.Bias"/>.</item>
/// <item><c>out_proj_weight</c> (H, d_k, d_model): W_O,h.</item>
/// <item><c>out_proj_bias</c> (d_model), shared by all heads, when <see cref="AttentionOptions.Bias"/>.</item>
/// </list>
/// <para><see cref="AddHead"/> and <see cref="RemoveHeads"/> resize these tensors in place: the <see cref="Parameter"/>
/// objects (and native handles) survive, so module registration and optimizer parameter lists stay valid. Use
/// <see cref="Surgery.HeadSurgery"/> to resize the optimizer state together with the parameters.</para>
/// </remarks>
public sealed partial class GrowableMultiHeadAttention : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // PyTorch field names, so state_dict keys read as in PyTorch.
    private readonly Parameter in_proj_weight;
    private readonly Parameter? in_proj_bias;
    private readonly Parameter out_proj_weight;
    private readonly Parameter? out_proj_bias;
#pragma warning restore IDE1006

    private readonly Generator _generator;
    private readonly List<long> _headIds = new();
    private long _nextHeadId;
    private bool _disposed;

    /// <summary>Creates the layer with <see cref="AttentionOptions.InitialHeads"/> randomly initialised heads.</summary>
    /// <param name="options">Layer configuration; validated here.</param>
    /// <param name="name">Module name.</param>
    public GrowableMultiHeadAttention(AttentionOptions options, string name = "growable_mha") : base(name)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        var device = options.Device ?? CPU;
        _generator = new Generator(options.Seed, CPU);

        long h = options.InitialHeads, d = options.DModel, dk = options.HeadDim;
        using (no_grad())
        {
            in_proj_weight = new Parameter(RandomInProj(h).to(options.DType, device));
            out_proj_weight = new Parameter(RandomOutProj(h).to(options.DType, device));
            if (options.Bias)
            {
                in_proj_bias = new Parameter(zeros(new[] { h, 3, dk }, options.DType, device));
                out_proj_bias = new Parameter(zeros(new[] { d }, options.DType, device));
            }
        }
        for (int i = 0; i < h; i++) _headIds.Add(_nextHeadId++);
        RegisterComponents();
    }

    /// <summary>The options this layer was built with.</summary>
    public AttentionOptions Options { get; }

    /// <summary>Current number of heads H.</summary>
    public int HeadCount => (int)in_proj_weight.size(0);

    /// <summary>Model width d.</summary>
    public long DModel => Options.DModel;

    /// <summary>Per-head width d_k.</summary>
    public long HeadDim => Options.HeadDim;

    /// <summary>Device of the parameters (follows <c>module.to(device)</c>).</summary>
    public Device Device => in_proj_weight.device;

    /// <summary>Stable identifiers of the current heads, in head order. A new head gets a never-used id.</summary>
    public IReadOnlyList<long> HeadIds => _headIds;

    /// <summary>The identifier the next added head will receive.</summary>
    public long NextHeadId => _nextHeadId;

    /// <summary>
    /// The parameters that carry one slice per head along dimension 0, in a fixed order. Optimizer-state surgery
    /// resizes exactly these.
    /// </summary>
    public IReadOnlyList<Parameter> PerHeadParameters =>
        in_proj_bias is null ? new[] { in_proj_weight, out_proj_weight } : new[] { in_proj_weight, in_proj_bias, out_proj_weight };

    /// <summary>Self-attention without padding. <paramref name="x"/>: (B, T, d_model).</summary>
    public override Tensor forward(Tensor x) => forward(x, null);

    /// <summary>Self-attention over <paramref name="x"/> (B, T, d_model) ignoring keys where
    /// <paramref name="keyPaddingMask"/> (B, T, bool) is true. Returns (B, T, d_model).</summary>
    public Tensor forward(Tensor x, Tensor? keyPaddingMask)
    {
        ThrowIfDisposed();
        var shape = ValidateInput(x, keyPaddingMask);
        NotifyInputObservers(x, keyPaddingMask);

        using var scope = NewDisposeScope();
        long b = shape[0], t = shape[1], h = HeadCount, dk = HeadDim, d = DModel;

        // One projection for every head: (d, 3·H·d_k) columns ordered (Q|K|V, head, d_k).
        var w = in_proj_weight.permute(2, 1, 0, 3).reshape(d, 3 * h * dk);
        var x2 = x.reshape(b * t, d);
        var qkv = in_proj_bias is null                                          // (B·T, 3·H·d_k); bias fused into the GEMM
            ? x2.matmul(w)
            : addmm(in_proj_bias.permute(1, 0, 2).reshape(3 * h * dk), x2, w, beta: 1, alpha: 1);
        // unbind (backward: one stack) rather than three selects (backward: three zero-filled full-size gradients).
        var qkvs = qkv.view(b, t, 3, h, dk).permute(2, 0, 3, 1, 4).unbind(0);  // 3 × (B, H, T, d_k)

        // SDPA's boolean mask marks keys that take part: the complement of the padding mask, broadcast over H and queries.
        using var attend = keyPaddingMask?.logical_not().view(b, 1, 1, t);
        var heads = Sdpa(qkvs[0], qkvs[1], qkvs[2], attend, training ? Options.Dropout : 0.0); // (B, H, T, d_k)
        if (MaskTensor(heads) is { } keep) heads = heads * keep;

        var o = heads.transpose(1, 2).reshape(b * t, h * dk);                   // (B·T, H·d_k)
        var wo = out_proj_weight.reshape(h * dk, d);
        Tensor y;                                                               // Σ_h o_h W_O,h (/H for Mean) + b_O
        if (Options.Aggregation == HeadAggregation.Mean)
        {
            y = o.matmul(wo) / h;
            if (out_proj_bias is not null) y = y + out_proj_bias;
        }
        else
            y = out_proj_bias is null ? o.matmul(wo) : addmm(out_proj_bias, o, wo, beta: 1, alpha: 1);
        return y.view(b, t, d).MoveToOuterDisposeScope();
    }

    /// <summary>The one place the fused attention kernel is called (TorchSharp spells the flag <c>is_casual</c>).</summary>
    private static Tensor Sdpa(Tensor q, Tensor k, Tensor v, Tensor? attend, double dropout) =>
        nn.functional.scaled_dot_product_attention(q, k, v, attn_mask: attend, p: dropout, is_casual: false);

    // ---------------------------------------------------------------- changing the head count in place

    /// <summary>
    /// Appends one head initialised per <paramref name="init"/>, on this layer's device and dtype, keeping every
    /// existing head bit-identical and every <see cref="Parameter"/> object alive. Returns the new head's index.
    /// Optimizer state is NOT resized here: use <see cref="Surgery.HeadSurgery.AddHead"/> when training.
    /// </summary>
    /// <exception cref="InvalidOperationException">The layer already has <see cref="AttentionOptions.MaxHeads"/> heads.</exception>
    /// <exception cref="ArgumentException">A seed direction whose length is not d_model, or d_k &lt; 2 for a seeded head.</exception>
    public int AddHead(HeadInit init)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(init);
        if (HeadCount >= Options.MaxHeads)
            throw new InvalidOperationException($"Cannot add a head: the layer already has MaxHeads = {Options.MaxHeads} heads.");
        if (init.Direction is not null)
        {
            if (init.Direction.Length != DModel)
                throw new ArgumentException($"The seed direction has length {init.Direction.Length}; expected d_model = {DModel}.", nameof(init));
            if (init.Partner is not null && init.Partner.Length != DModel)
                throw new ArgumentException($"The partner direction has length {init.Partner.Length}; expected d_model = {DModel}.", nameof(init));
            if (HeadDim < 2)
                throw new ArgumentException("An eigen-seeded head needs head_dim >= 2 (two Q/K columns carry the seed).", nameof(init));
        }

        using var scope = NewDisposeScope();
        using (no_grad())
        {
            var (inProj, outProj) = RandomHead(init.ZeroOutput);     // (1, 3, d, d_k), (1, d_k, d)
            if (init.Direction is not null) SeedSkewPlane(inProj, init);
            Append(in_proj_weight, inProj);
            Append(out_proj_weight, outProj);
            if (in_proj_bias is not null) Append(in_proj_bias, zeros(1, 3, HeadDim));
        }
        _headIds.Add(_nextHeadId++);
        return HeadCount - 1;
    }

    /// <summary>
    /// Removes the heads at <paramref name="indices"/> (positions in the current head order), keeping the remaining
    /// heads bit-identical and in order. Optimizer state is NOT resized here: use
    /// <see cref="Surgery.HeadSurgery.RemoveHeads"/> when training.
    /// </summary>
    /// <exception cref="ArgumentException">An index out of range or repeated, or removing every head.</exception>
    public void RemoveHeads(IReadOnlyCollection<int> indices)
    {
        ThrowIfDisposed();
        var keep = KeptIndices(indices);
        using var scope = NewDisposeScope();
        using var keepT = tensor(keep.Select(i => (long)i).ToArray(), device: Device);
        using (no_grad())
        {
            foreach (var p in PerHeadParameters) Replace(p, p.index_select(0, keepT));
        }
        var ids = keep.Select(i => _headIds[i]).ToList();
        _headIds.Clear();
        _headIds.AddRange(ids);
    }

    /// <summary>Validates a removal and returns the head positions that survive it, in order.</summary>
    internal int[] KeptIndices(IReadOnlyCollection<int> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        if (indices.Count == 0) throw new ArgumentException("No head index given.", nameof(indices));
        var set = new HashSet<int>();
        foreach (var i in indices)
        {
            if (i < 0 || i >= HeadCount)
                throw new ArgumentOutOfRangeException(nameof(indices), i, $"Head index {i} does not exist; expected 0..{HeadCount - 1}.");
            if (!set.Add(i)) throw new ArgumentException($"Head index {i} is listed twice.", nameof(indices));
        }
        if (set.Count >= HeadCount)
            throw new ArgumentException($"Cannot remove all {HeadCount} heads: at least one head must remain.", nameof(indices));
        return Enumerable.Range(0, HeadCount).Where(i => !set.Contains(i)).ToArray();
    }

    /// <summary>
    /// Rebuilds the head layout for a checkpoint: resizes the parameters to <paramref name="headIds"/>.Count heads
    /// (values are expected to be overwritten by loading weights) and restores the id bookkeeping.
    /// </summary>
    internal void ResetHeads(IReadOnlyList<long> headIds, long nextHeadId)
    {
        if (headIds.Count < 1 || headIds.Count > Options.MaxHeads)
            throw new ArgumentOutOfRangeException(nameof(headIds), headIds.Count, $"Head count must be in [1, {Options.MaxHeads}].");
        using var scope = NewDisposeScope();
        using (no_grad())
        {
            foreach (var p in PerHeadParameters)
            {
                var shape = p.shape.ToArray();
                shape[0] = headIds.Count;
                Replace(p, zeros(shape, p.dtype, p.device));
            }
        }
        _headIds.Clear();
        _headIds.AddRange(headIds);
        _nextHeadId = nextHeadId;
    }

    /// <summary>State of the layer's head-initialisation generator (checkpoints: growth after a resume draws the same
    /// random weights as an uninterrupted run).</summary>
    internal byte[] ExportGeneratorState()
    {
        using var state = _generator.get_state();
        return state.to(ScalarType.Byte).cpu().data<byte>().ToArray();
    }

    /// <summary>Restores the head-initialisation generator from <see cref="ExportGeneratorState"/>.</summary>
    internal void ImportGeneratorState(byte[] state)
    {
        ArgumentNullException.ThrowIfNull(state);
        using var t = tensor(state, ScalarType.Byte);
        _generator.set_state(t);
    }

    /// <summary>Appends one head's slice: into the parameter's spare room with <see cref="AttentionOptions.ReserveHeads"/>
    /// (<see cref="HeadCapacity"/>), else by a copy of every head.</summary>
    private void Append(Parameter p, Tensor slice)
    {
        var grown = HeadCapacity.Append(p, p, slice, Options);
        p.grad = null;                                    // a stale gradient of the old shape would break backward
        p.set_(grown);                                    // contiguous, offset 0 (a prefix view of the room, if any)
    }

    /// <summary>Swaps the storage behind a parameter, keeping the Parameter object and its handle.</summary>
    private static void Replace(Parameter p, Tensor value)
    {
        HeadCapacity.Forget(p);                           // the new storage has no spare room
        // A stale gradient of the old shape would break the next backward pass.
        p.grad = null;
        p.set_(value.contiguous());
    }

    private Tensor RandomInProj(long heads) =>
        randn(new[] { heads, 3, DModel, HeadDim }, ScalarType.Float64, CPU, generator: _generator).div_(Math.Sqrt(DModel));   // σ_QK = σ_V = 1/√d [ref-code]

    private Tensor RandomOutProj(long heads) =>
        randn(new[] { heads, HeadDim, DModel }, ScalarType.Float64, CPU, generator: _generator).div_(Math.Sqrt(HeadDim));    // σ_O = 1/√d_v [ref-code]

    /// <summary>Whether a grown head is drawn on the layer's device (<see cref="AttentionOptions.NewHeads"/>).</summary>
    private bool DrawsOnDevice => Options.NewHeads == HeadDraw.OnDevice || (Options.NewHeads == HeadDraw.Auto && Device.type != DeviceType.CPU);

    /// <summary>One grown head's float64 projections: from the CPU generator, or on the layer's device in one counter
    /// draw from one seed the generator gives (so the generator's state, which checkpoints keep, still decides every
    /// draw, and a CUDA grow is a few dozen kernels).</summary>
    private (Tensor In, Tensor Out) RandomHead(bool zeroOutput)
    {
        if (!DrawsOnDevice)
            return (RandomInProj(1), zeroOutput ? zeros(1, HeadDim, DModel) : RandomOutProj(1));
        long nIn = 3 * DModel * HeadDim, nOut = zeroOutput ? 0 : HeadDim * DModel;
        using var seed = randint(0, long.MaxValue, new long[] { 1 }, ScalarType.Int64, CPU, generator: _generator);
        var z = CounterNormals.Draw(new[] { nIn + nOut }, (ulong)seed.item<long>(), Device);
        var inProj = z.narrow(0, 0, nIn).view(1, 3, DModel, HeadDim).div_(Math.Sqrt(DModel));
        var outProj = zeroOutput ? zeros(1, HeadDim, DModel) : z.narrow(0, nIn, nOut).view(1, HeadDim, DModel).div_(Math.Sqrt(HeadDim));
        return (inProj, outProj);
    }

    /// <summary>q₀ = a·u, k₀ = a·v, q₁ = −a·v, k₁ = a·u ⇒ W_Q W_Kᵀ ∋ a²(u vᵀ − v uᵀ), a pure skew rank-2 term.</summary>
    private void SeedSkewPlane(Tensor inProj, HeadInit init)
    {
        var u = tensor(init.Direction!, ScalarType.Float64);
        u = u / u.norm();
        var v = init.Partner is null ? randn(new[] { DModel }, ScalarType.Float64, generator: _generator) : tensor(init.Partner, ScalarType.Float64);
        v = v - u * u.dot(v);
        var vNorm = v.norm().item<double>();
        if (!(vNorm > 1e-8))
        {
            // The partner is parallel to u (or zero): fall back to a random orthogonal partner.
            v = randn(new[] { DModel }, ScalarType.Float64, generator: _generator);
            v = v - u * u.dot(v);
            vNorm = v.norm().item<double>();
        }
        v = v / vNorm;
        double a = init.SeedScale;
        // inProj: (1, 3, d, d_k); select(...) gives views, copy_ writes through them.
        Column(inProj, 0, 0).copy_(u * a);
        Column(inProj, 1, 0).copy_(v * a);
        Column(inProj, 0, 1).copy_(v * -a);
        Column(inProj, 1, 1).copy_(u * a);
    }

    /// <summary>Column <paramref name="col"/> of W_Q (<paramref name="which"/> = 0) or W_K (1) of a single-head slice.</summary>
    private static Tensor Column(Tensor inProj, long which, long col) => inProj.select(0, 0).select(0, which).select(1, col);

    // ---------------------------------------------------------------- validation and disposal

    /// <summary>Checks x (and the mask) and returns x's shape. Reads each shape once and compares devices by type and
    /// index: this runs on every call, and at small sizes its native round trips were a measurable part of a forward.</summary>
    private long[] ValidateInput(Tensor x, Tensor? keyPaddingMask)
    {
        ArgumentNullException.ThrowIfNull(x);
        var shape = x.shape;
        if (shape.Length != 3)
            throw new ArgumentException($"Expected x of shape (B, T, d_model = {DModel}); got rank {shape.Length} {Shape(shape)}.", nameof(x));
        if (shape[2] != DModel)
            throw new ArgumentException($"Expected x of shape (B, T, d_model = {DModel}); got {Shape(shape)}.", nameof(x));
        if (shape[0] == 0 || shape[1] == 0)
            throw new ArgumentException($"x must hold at least one sequence and one position; got {Shape(shape)}.", nameof(x));
        if (x.dtype != in_proj_weight.dtype)
            throw new ArgumentException($"x has dtype {x.dtype}; the layer's parameters are {in_proj_weight.dtype}.", nameof(x));
        if (!SameDevice(x, in_proj_weight))
            throw new ArgumentException($"x is on {x.device}; the layer is on {in_proj_weight.device}.", nameof(x));
        if (keyPaddingMask is null) return shape;
        if (keyPaddingMask.dtype != ScalarType.Bool)
            throw new ArgumentException($"keyPaddingMask must be bool (true = padding); got {keyPaddingMask.dtype}.", nameof(keyPaddingMask));
        var maskShape = keyPaddingMask.shape;
        if (maskShape.Length != 2 || maskShape[0] != shape[0] || maskShape[1] != shape[1])
            throw new ArgumentException($"keyPaddingMask must have shape (B, T) = ({shape[0]}, {shape[1]}); got {Shape(maskShape)}.", nameof(keyPaddingMask));
        if (!SameDevice(keyPaddingMask, x))
            throw new ArgumentException($"keyPaddingMask is on {keyPaddingMask.device}; x is on {x.device}.", nameof(keyPaddingMask));
        return shape;
    }

    private static bool SameDevice(Tensor a, Tensor b) => a.device_type == b.device_type && a.device_index == b.device_index;

    private static string Shape(long[] shape) => "(" + string.Join(", ", shape) + ")";

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _inputObservers.Clear();
            _generator.Dispose();
            _disposed = true;
        }
        base.Dispose(disposing);
    }
}
