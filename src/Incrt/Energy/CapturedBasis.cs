using TorchSharp;
using static TorchSharp.torch;

namespace Incrt.Energy;

/// <summary>
/// The captured basis Q (d×k, orthonormal columns, k may be 0) of directions already taken by heads,
/// and its complement projector P⊥ = I − QQᵀ (docs/algorithm.md §3).
/// </summary>
/// <remarks>
/// Columns keep their order: column j stays (up to round-off) the direction appended j-th among the survivors,
/// so a column index can be tied to a head. The instance owns its tensor and must be disposed.
/// </remarks>
public sealed class CapturedBasis : IDisposable
{
    private Tensor _q;
    private bool _disposed;

    /// <summary>Creates an empty basis (k = 0) in dimension <paramref name="dimension"/>.</summary>
    /// <param name="dimension">Model width d (≥ 1).</param>
    /// <param name="dtype">Floating dtype of Q (default float32).</param>
    /// <param name="device">Device of Q (default CPU).</param>
    public CapturedBasis(int dimension, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        if (dimension < 1) throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "dimension must be ≥ 1.");
        if (!torch.is_floating_point(dtype)) throw new ArgumentException($"dtype must be floating-point; got {dtype}.", nameof(dtype));
        Dimension = dimension;
        _q = torch.empty(new long[] { dimension, 0 }, dtype: dtype, device: device ?? CPU).DetachFromDisposeScope();
    }

    private CapturedBasis(int dimension, Tensor q)
    {
        Dimension = dimension;
        _q = q.DetachFromDisposeScope();
    }

    /// <summary>Model width d.</summary>
    public int Dimension { get; }

    /// <summary>Number k of captured directions (columns of Q).</summary>
    public int Count => (int)_q.shape[1];

    /// <summary>True when no direction can be appended any more (k = d).</summary>
    public bool IsFull => Count == Dimension;

    /// <summary>Dtype of Q.</summary>
    public ScalarType DType => _q.dtype;

    /// <summary>Device of Q.</summary>
    public Device Device => _q.device;

    /// <summary>Q itself, shape (d, k). Owned by this instance: do not dispose or modify it.</summary>
    public Tensor Matrix => ThrowIfDisposed()._q;

    /// <summary>
    /// Appends direction <paramref name="u"/> after orthonormalising it against Q (classical Gram–Schmidt applied twice,
    /// which is enough for orthogonality to working precision).
    /// </summary>
    /// <param name="u">Vector of shape (d) or (d, 1), any floating dtype/device (converted to Q's).</param>
    /// <returns>The index of the new column.</returns>
    /// <exception cref="ArgumentException"><paramref name="u"/> has the wrong shape, is non-finite, zero or
    /// (numerically) in the span of Q — relative residual norm below <see cref="DependenceTolerance"/>.</exception>
    public int Append(Tensor u)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(u);
        if (!(u.dim() == 1 && u.shape[0] == Dimension) && !(u.dim() == 2 && u.shape[0] == Dimension && u.shape[1] == 1))
            throw new ArgumentException($"u must have shape ({Dimension}) or ({Dimension}, 1); got ({string.Join(", ", u.shape)}).", nameof(u));
        EnergyGuards.RequireFloating(u, nameof(u));
        using var scope = NewDisposeScope();
        var v = u.detach().reshape(Dimension, 1).to(_q.dtype, _q.device);
        // One host sync: the original norm decides finiteness and zero-ness.
        double norm0 = v.to(ScalarType.Float64).norm().item<double>();
        if (!double.IsFinite(norm0)) throw new ArgumentException("u must be finite.", nameof(u));
        if (norm0 == 0) throw new ArgumentException("u must be non-zero.", nameof(u));
        if (IsFull) throw new ArgumentException($"u cannot be appended: the basis already spans all {Dimension} dimensions.", nameof(u));
        var w = v / norm0;
        w = w - _q.matmul(_q.t().matmul(w)); // Gram–Schmidt ...
        w = w - _q.matmul(_q.t().matmul(w)); // ... twice: the second pass removes the first pass's round-off
        double residual = w.to(ScalarType.Float64).norm().item<double>();
        if (!(residual > DependenceTolerance(_q.dtype)))
            throw new ArgumentException($"u is numerically dependent on the captured basis (relative residual {residual:G3}).", nameof(u));
        w = w / residual;
        var next = torch.cat(new[] { _q, w }, 1).MoveToOuterDisposeScope();
        _q.Dispose();
        _q = next.DetachFromDisposeScope();
        return Count - 1;
    }

    /// <summary>
    /// Removes column <paramref name="column"/> and re-orthonormalises the remaining columns with a QR factorisation,
    /// fixing the signs so every surviving column keeps its direction.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="column"/> is not in [0, k).</exception>
    public void Remove(int column)
    {
        ThrowIfDisposed();
        if (column < 0 || column >= Count)
            throw new ArgumentOutOfRangeException(nameof(column), column, $"column must be in [0, {Count}).");
        using var scope = NewDisposeScope();
        var keep = Enumerable.Range(0, Count).Where(j => j != column).Select(j => (long)j).ToArray();
        Tensor next;
        if (keep.Length == 0)
        {
            next = torch.empty(new long[] { Dimension, 0 }, dtype: _q.dtype, device: _q.device);
        }
        else
        {
            var rest = _q.index_select(1, torch.tensor(keep, device: _q.device));
            var (qq, rr) = torch.linalg.qr(rest);
            // R ≈ diag(±1) for an orthonormal input: flip columns whose diagonal is negative.
            var signs = torch.where(rr.diagonal() < 0, -torch.ones_like(rr.diagonal()), torch.ones_like(rr.diagonal()));
            next = qq * signs.unsqueeze(0);
        }
        next = next.contiguous().MoveToOuterDisposeScope();
        _q.Dispose();
        _q = next.DetachFromDisposeScope();
    }

    /// <summary>Returns P⊥ = I − QQᵀ (d×d, Q's dtype/device). The caller owns the result.</summary>
    public Tensor Projector()
    {
        ThrowIfDisposed();
        using var scope = NewDisposeScope();
        var p = torch.eye(Dimension, dtype: _q.dtype, device: _q.device) - _q.matmul(_q.t());
        return p.MoveToOuterDisposeScope();
    }

    /// <summary>Projects <paramref name="v"/> (shape (d) or (d, m)) onto the complement of Q: v − Q(Qᵀv). Caller owns the result.</summary>
    public Tensor ProjectOut(Tensor v)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(v);
        if (v.dim() < 1 || v.dim() > 2 || v.shape[0] != Dimension)
            throw new ArgumentException($"v must have shape ({Dimension}) or ({Dimension}, m); got ({string.Join(", ", v.shape)}).", nameof(v));
        using var scope = NewDisposeScope();
        var q = _q.to(v.dtype, v.device);
        var r = v - q.matmul(q.t().matmul(v));
        return r.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Draws a random unit vector (shape (d), Q's dtype/device) orthogonal to every column of Q.
    /// Sampling runs on the CPU from <paramref name="generator"/>, so results do not depend on the device.
    /// </summary>
    /// <exception cref="InvalidOperationException">The basis is full (k = d).</exception>
    public Tensor RandomUnitInComplement(Generator generator)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(generator);
        if (IsFull) throw new InvalidOperationException("The captured basis spans the whole space: its complement is the zero space.");
        using var scope = NewDisposeScope();
        var q = _q.to(ScalarType.Float64, CPU);
        for (int attempt = 0; attempt < 16; attempt++)
        {
            using var inner = NewDisposeScope();
            var g = torch.randn(new long[] { Dimension }, dtype: ScalarType.Float64, generator: generator);
            g = g - q.matmul(q.t().matmul(g));
            g = g - q.matmul(q.t().matmul(g));
            double n = g.norm().item<double>();
            if (n > 1e-6)
            {
                // Two hops out: past the attempt scope, then past the method scope, to the caller.
                return (g / n).to(_q.dtype, _q.device).MoveToOuterDisposeScope().MoveToOuterDisposeScope();
            }
        }
        throw new InvalidOperationException("Could not draw a vector in the complement of Q.");
    }

    /// <summary>Same as <see cref="RandomUnitInComplement(Generator)"/> with a fresh CPU generator seeded by <paramref name="seed"/>.</summary>
    public Tensor RandomUnitInComplement(ulong seed)
    {
        using var generator = new Generator(seed);
        return RandomUnitInComplement(generator);
    }

    /// <summary>A deep copy (same dtype/device).</summary>
    public CapturedBasis Clone()
    {
        ThrowIfDisposed();
        return new CapturedBasis(Dimension, _q.clone());
    }

    /// <summary>Exports Q as a host array [d, k] of doubles (for checkpoints).</summary>
    public double[,] ExportState()
    {
        ThrowIfDisposed();
        var result = new double[Dimension, Count];
        if (Count == 0) return result;
        using var scope = NewDisposeScope();
        var flat = _q.to(ScalarType.Float64, CPU).contiguous().data<double>().ToArray();
        for (int i = 0; i < Dimension; i++)
            for (int j = 0; j < Count; j++)
                result[i, j] = flat[i * Count + j];
        return result;
    }

    /// <summary>
    /// Rebuilds a basis from an exported [d, k] array, appending the columns in order
    /// (so they are re-orthonormalised and validated exactly like <see cref="Append"/>).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="state"/> is empty in d, non-finite, or has dependent columns.</exception>
    public static CapturedBasis ImportState(double[,] state, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        int d = state.GetLength(0), k = state.GetLength(1);
        if (d < 1) throw new ArgumentException("state must have at least one row (d ≥ 1).", nameof(state));
        var basis = new CapturedBasis(d, dtype, device);
        try
        {
            for (int j = 0; j < k; j++)
            {
                using var scope = NewDisposeScope();
                var col = new double[d];
                for (int i = 0; i < d; i++) col[i] = state[i, j];
                using var t = torch.tensor(col, dtype: ScalarType.Float64);
                try { basis.Append(t); }
                catch (ArgumentException e) { throw new ArgumentException($"state column {j} is invalid: {e.Message}", nameof(state), e); }
            }
            return basis;
        }
        catch
        {
            basis.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Rebuilds a basis from exported columns bit-exactly (no re-orthonormalisation), for checkpoint resume.
    /// Validates shape and finiteness only.
    /// </summary>
    internal static CapturedBasis FromColumnsExact(int dimension, IReadOnlyList<double[]> columns, ScalarType dtype, Device? device)
    {
        ArgumentNullException.ThrowIfNull(columns);
        if (dimension < 1) throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "dimension must be ≥ 1.");
        if (columns.Count > dimension) throw new ArgumentException($"{columns.Count} columns exceed dimension {dimension}.", nameof(columns));
        if (columns.Count == 0) return new CapturedBasis(dimension, dtype, device);
        var flat = new double[dimension * columns.Count];
        for (int j = 0; j < columns.Count; j++)
        {
            var c = columns[j] ?? throw new ArgumentException($"column {j} is missing.", nameof(columns));
            if (c.Length != dimension) throw new ArgumentException($"column {j} has length {c.Length}; expected {dimension}.", nameof(columns));
            for (int i = 0; i < dimension; i++)
            {
                if (!double.IsFinite(c[i])) throw new ArgumentException($"column {j} is not finite.", nameof(columns));
                flat[i * columns.Count + j] = c[i];
            }
        }
        using var scope = NewDisposeScope();
        var q = torch.tensor(flat, new long[] { dimension, columns.Count }, ScalarType.Float64).to(dtype, device ?? CPU).contiguous();
        return new CapturedBasis(dimension, q.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Relative residual norm below which an appended vector counts as dependent on Q:
    /// 1e-4 for 16/32-bit floats, 1e-10 for float64.
    /// </summary>
    public static double DependenceTolerance(ScalarType dtype) => dtype == ScalarType.Float64 ? 1e-10 : 1e-4;

    /// <summary>Releases Q.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _q.Dispose();
    }

    private CapturedBasis ThrowIfDisposed()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return this;
    }
}
