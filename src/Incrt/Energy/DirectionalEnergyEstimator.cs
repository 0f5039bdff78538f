using TorchSharp;
using static TorchSharp.torch;

namespace Incrt.Energy;

/// <summary>
/// Residual directional-energy estimator of one layer (docs/algorithm.md §3): builds A_res from the token covariance,
/// the layer motor and the captured basis, decomposes it exactly for the gaps, and reads the extreme eigenpairs either
/// from the online Oja/MCA tracker (<see cref="EstimatorMode.Online"/>, the paper's mode) or from eigh
/// (<see cref="EstimatorMode.Exact"/>), or from a warm-started block Krylov solver (<see cref="EstimatorMode.Block"/>:
/// the same four extreme eigenvalues and two vectors to a residual tolerance, without the full decomposition).
/// </summary>
/// <remarks>
/// <para>Non-finite policy: if A_res has a NaN/±Inf entry (detected from ‖A_res‖_F, so an overflowing norm counts too)
/// <see cref="ObserveOperator"/> returns <see cref="SpectrumReading.NonFinite"/> (IsFinite = false) and changes nothing;
/// no exception is thrown so the controller can simply skip the step.</para>
/// <para>Cost per call: eigh (exact mode) or eigvalsh (online mode) of a d×d matrix, <see cref="EstimatorOptions.Iterations"/> tracker updates and three
/// host syncs (norm check, four eigenvalues, final read-back of the vectors).</para>
/// <para>Tracker vectors follow the dtype/device of the last observed operator. Owns tensors; dispose it.</para>
/// </remarks>
public sealed class DirectionalEnergyEstimator : IDisposable
{
    private readonly OjaMcaTracker _tracker;
    private readonly WarmBlockSolver? _block;
    private long _draws;
    private bool _disposed;

    /// <summary>Creates an estimator for width <paramref name="dimension"/> (≥ 2) with seeded random tracker vectors.</summary>
    public DirectionalEnergyEstimator(int dimension, EstimatorOptions? options = null)
    {
        if (dimension < 2) throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "dimension must be ≥ 2.");
        Options = options ?? new EstimatorOptions();
        Dimension = dimension;
        _tracker = new OjaMcaTracker(dimension, Options.EtaPlus, Options.EtaMinus, EnergyGuards.MixSeed(Options.Seed, _draws++));
        // The block solver's random draws use their own stream, so the tracker's (checkpointed) draw counter is unchanged.
        if (Options.Mode == EstimatorMode.Block) _block = new WarmBlockSolver(dimension, Options, EnergyGuards.MixSeed(Options.Seed, -7));
    }

    /// <summary>d.</summary>
    public int Dimension { get; }

    /// <summary>The options in force.</summary>
    public EstimatorOptions Options { get; }

    /// <summary>Effective η+.</summary>
    public double EtaPlus => _tracker.EtaPlus;

    /// <summary>Effective η−.</summary>
    public double EtaMinus => _tracker.EtaMinus;

    /// <summary>Current u+ (shape (d)); in exact mode the last eigh eigenvector. Owned by the estimator: do not dispose.</summary>
    public Tensor UPlus => ThrowIfDisposed()._tracker.UPlus;

    /// <summary>Current u− (shape (d)). Owned by the estimator: do not dispose.</summary>
    public Tensor UMinus => ThrowIfDisposed()._tracker.UMinus;

    /// <summary>
    /// Builds A_res = P⊥ sym(C M_a) P⊥ (<see cref="ResidualOperator.Build"/>) and observes it (<see cref="ObserveOperator"/>).
    /// </summary>
    /// <param name="covariance">C, shape (d, d).</param>
    /// <param name="motor">M_a, shape (d, d), antisymmetric.</param>
    /// <param name="basis">Captured basis (null = empty).</param>
    public SpectrumReading Observe(Tensor covariance, Tensor motor, CapturedBasis? basis)
    {
        ThrowIfDisposed();
        EnergyGuards.RequireSquare(covariance, nameof(covariance), Dimension);
        using var scope = NewDisposeScope();
        var a = ResidualOperator.Build(covariance, motor, basis);
        return ObserveOperator(a);
    }

    /// <summary>
    /// Observes an already built symmetric operator: exact spectrum for the gaps, then (online) tracker updates
    /// or (exact) eigh eigenvectors, and a host-side reading.
    /// </summary>
    /// <param name="residualOperator">Symmetric (d, d) operator.</param>
    /// <exception cref="ArgumentException">Wrong shape or dtype.</exception>
    public SpectrumReading ObserveOperator(Tensor residualOperator)
    {
        ThrowIfDisposed();
        EnergyGuards.RequireSquare(residualOperator, nameof(residualOperator), Dimension);
        using var scope = NewDisposeScope();
        var a = residualOperator.detach();
        double fro = a.to(ScalarType.Float64).norm().item<double>();
        if (!double.IsFinite(fro))
            return SpectrumReading.NonFinite(Options.Mode, fro);

        if (Options.Mode == EstimatorMode.Block && _block!.Solve(a) is { } pairs)
        {
            using (pairs) _tracker.SetVectors(pairs.UPlus, pairs.UMinus);
            return Reading(a, fro, pairs.LambdaMax, pairs.LambdaSecond, pairs.LambdaSecondSmallest, pairs.LambdaMin);
        }

        // The online mode needs only the eigenvalues (gaps, γ*): eigvalsh instead of eigh.
        using var spectrum = ExactSpectrum.Compute(a, checkFinite: false, withVectors: Options.Mode != EstimatorMode.Online);
        if (Options.Mode == EstimatorMode.Online)
        {
            _tracker.Step(a, spectrum.GammaStar, Options.Iterations);
        }
        else
        {
            using var p = spectrum.UPlus();
            using var n = spectrum.UMinus();
            _tracker.SetVectors(p, n);
            _block?.Remember(spectrum.Eigenvectors, Math.Max(Math.Abs(spectrum.LambdaMax), Math.Abs(spectrum.LambdaMin)));
        }
        return Reading(a, fro, spectrum.LambdaMax, spectrum.LambdaSecond, spectrum.LambdaSecondSmallest, spectrum.LambdaMin);
    }

    /// <summary>Calls of <see cref="EstimatorMode.Block"/> answered by the Krylov solver and those that fell back to eigh
    /// (operator too small for a block, or no convergence); (0, 0) in the other modes.</summary>
    public (long Solved, long Fallbacks) BlockCalls => _block is null ? (0, 0) : (_block.Solved, _block.Fallbacks);

    /// <summary>The host-side reading: the extreme eigenvalues (exact/block) or the tracker's Rayleigh quotients (online).</summary>
    private SpectrumReading Reading(Tensor a, double fro, double lambda1, double lambda2, double lambdaSecondSmallest, double lambdaD)
    {
        var up = _tracker.UPlus.to(a.dtype, a.device);
        var un = _tracker.UMinus.to(a.dtype, a.device);
        var packed = torch.cat(new[]
        {
            up.dot(a.matmul(up)).reshape(1),
            un.dot(a.matmul(un)).reshape(1),
            up,
            un,
        }).to(ScalarType.Float64).cpu().data<double>().ToArray();
        int d = Dimension;
        bool online = Options.Mode == EstimatorMode.Online;
        var (gapPlus, gapMinus, gammaStar) = ExactSpectrum.Gaps(lambda1, lambda2, lambdaSecondSmallest, lambdaD);
        return new SpectrumReading(
            IsFinite: true,
            Mode: Options.Mode,
            LambdaMax: online ? packed[0] : lambda1,
            LambdaMin: online ? packed[1] : lambdaD,
            ExactLambdaMax: lambda1,
            ExactLambdaMin: lambdaD,
            GapPlus: gapPlus,
            GapMinus: gapMinus,
            GammaStar: gammaStar,
            FrobeniusNorm: fro,
            UPlus: packed.AsSpan(2, d).ToArray(),
            UMinus: packed.AsSpan(2 + d, d).ToArray());
    }

    /// <summary>
    /// Re-draws u+ and u− at random, unit, orthogonal to Q's columns (and to each other). Reproducible from
    /// <see cref="EstimatorOptions.Seed"/> and the number of draws so far.
    /// </summary>
    /// <param name="basis">Captured basis (null = empty); its complement must have ≥ 2 dimensions.</param>
    /// <remarks>Call it after appending u+ (or u−) to the basis: the captured vector lies in span(Q), where A_res is zero,
    /// so tracking would otherwise restart from a null direction.</remarks>
    public void Redraw(CapturedBasis? basis)
    {
        ThrowIfDisposed();
        using var empty = basis is null ? new CapturedBasis(Dimension, ScalarType.Float64) : null;
        using var generator = new Generator(EnergyGuards.MixSeed(Options.Seed, _draws));
        _tracker.Redraw(basis ?? empty!, generator);
        _draws++;
    }

    /// <summary>Exports the tracker vectors and draw counter (one host sync).</summary>
    public EstimatorState ExportState()
    {
        ThrowIfDisposed();
        using var scope = NewDisposeScope();
        var up = _tracker.UPlus.to(ScalarType.Float64).cpu().data<double>().ToArray();
        var un = _tracker.UMinus.to(ScalarType.Float64).cpu().data<double>().ToArray();
        return new EstimatorState(Dimension, Options.Seed, _draws, up, un);
    }

    /// <summary>Restores vectors and draw counter from <paramref name="state"/>.</summary>
    /// <exception cref="ArgumentException">Dimension mismatch, wrong vector lengths, non-finite or degenerate vectors.</exception>
    public void ImportState(EstimatorState state)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(state);
        if (state.Dimension != Dimension || state.UPlus is null || state.UMinus is null || state.UPlus.Length != Dimension || state.UMinus.Length != Dimension)
            throw new ArgumentException($"state must have Dimension {Dimension} and two vectors of length {Dimension}.", nameof(state));
        if (state.Draws < 0) throw new ArgumentException("state.Draws must be ≥ 0.", nameof(state));
        using var p = torch.tensor(state.UPlus, dtype: ScalarType.Float64);
        using var n = torch.tensor(state.UMinus, dtype: ScalarType.Float64);
        try { _tracker.Restore(p, n); }
        catch (ArgumentException e) { throw new ArgumentException($"state vectors are invalid: {e.Message}", nameof(state), e); }
        _draws = state.Draws;
    }

    /// <summary>Dtype of the tracker vectors (checkpoints record it so a restore is bit-exact).</summary>
    internal ScalarType TrackerDType => _tracker.UPlus.dtype;

    /// <summary>
    /// Restores vectors (bit-exactly, as <paramref name="dtype"/> on <paramref name="device"/>) and the draw counter,
    /// for checkpoint resume. Unlike <see cref="ImportState"/> nothing is re-normalised.
    /// </summary>
    internal void ImportStateExact(EstimatorState state, ScalarType dtype, Device? device)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(state);
        if (state.Dimension != Dimension || state.UPlus is null || state.UMinus is null || state.UPlus.Length != Dimension || state.UMinus.Length != Dimension)
            throw new ArgumentException($"state must have Dimension {Dimension} and two vectors of length {Dimension}.", nameof(state));
        if (state.Draws < 0) throw new ArgumentException("state.Draws must be ≥ 0.", nameof(state));
        if (!state.UPlus.All(double.IsFinite) || !state.UMinus.All(double.IsFinite))
            throw new ArgumentException("state vectors must be finite.", nameof(state));
        using var scope = NewDisposeScope();
        var p = torch.tensor(state.UPlus, dtype: ScalarType.Float64).to(dtype, device ?? CPU);
        var n = torch.tensor(state.UMinus, dtype: ScalarType.Float64).to(dtype, device ?? CPU);
        _tracker.RestoreExact(p, n);
        _draws = state.Draws;
    }

    /// <summary>Releases the tracker.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _tracker.Dispose();
        _block?.Dispose();
    }

    private DirectionalEnergyEstimator ThrowIfDisposed()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return this;
    }
}
