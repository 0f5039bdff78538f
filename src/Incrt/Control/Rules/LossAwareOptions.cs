namespace Incrt.Control;

/// <summary>
/// Settings of the loss-aware rules, <see cref="LossPlateauGrowthRule"/> and <see cref="MaskedLossPruneRule"/>
/// (docs/algorithm.md §8). Both judge a head by the paired masking test: the probe loss with the head masked minus the
/// probe loss without masking, on the same batch. A head is useful when that increase is at least
/// max(<see cref="UsefulAbsolute"/>, <see cref="UsefulFraction"/>·L₀), L₀ the probe loss at the rule's first call (the
/// untrained model's loss: the task's loss scale) [ours; masking importance after Michel et al. 2019, "Are sixteen
/// heads really better than one?"]. A fraction of the current loss would not do: near a solved task any extra head
/// lowers a small loss by a large fraction.
/// </summary>
public sealed record LossAwareOptions
{
    /// <summary>Steps per loss window; the mean training loss of each window is compared with the previous one. Default 50.</summary>
    public int PlateauSteps { get; init; } = 50;

    /// <summary>A plateau: the last window's mean loss is less than this fraction below the previous window's. Default 0.03.</summary>
    public double PlateauImprovement { get; init; } = 0.03;

    /// <summary>When a trial head is kept, put the next one on trial at once instead of waiting for the next plateau:
    /// growth continues while heads keep proving useful and stops at the first one that does not. Default false: a head
    /// is kept as soon as it is useful, while it is still learning, and a second trial head started then learns the same
    /// relation beside it, both stay useful and the layer overshoots (planted offset task, seed 1: K = 2, 4, 6, 8 →
    /// 3, 6, 8, 11 heads with true).</summary>
    public bool GrowAfterKeep { get; init; }

    /// <summary>Withdrawn trial heads in a row after which the layer stops growing. Default 2: a trial head that happened
    /// not to find its relation in time would otherwise end growth early (planted confirmation seeds 2–3: 4 of 36 runs
    /// stopped 2–5 heads short with 1).</summary>
    public int MaxWithdrawals { get; init; } = 2;

    /// <summary>Steps a trial head gets to become useful before it is withdrawn. Default 300.</summary>
    public int TrialSteps { get; init; } = 300;

    /// <summary>Steps between masking probes of a trial head (it is kept at the first probe that finds it useful). Default 50
    /// (25 until 2026-11-30: probing half as often left the planted yardstick at 36/36 runs within ±1 head of the knee,
    /// docs/benchmarks.md "issue 16, third session", at half the probe cost).</summary>
    public int ProbeEverySteps { get; init; } = 50;

    /// <summary>Smallest loss increase that makes a head useful. Default 0.02 (nats).</summary>
    public double UsefulAbsolute { get; init; } = 0.02;

    /// <summary>Smallest loss increase, as a fraction of L₀ (the probe loss at the first call), that makes a head useful.
    /// Default 0.03: a head that carries one of K equally weighted relations is worth about 1/K of L₀, so K up to ≈ 30
    /// stays detectable.</summary>
    public double UsefulFraction { get; init; } = 0.03;

    /// <summary>Steps between two prune checks (each costs min(H, <see cref="PruneProbeHeads"/>) + 1 probe forwards). Default
    /// 200 (100 until 2026-11-30; see <see cref="ProbeEverySteps"/>).</summary>
    public int PruneEverySteps { get; init; } = 200;

    /// <summary>Longest gap between two prune checks, or null to check every <see cref="PruneEverySteps"/> steps. A check that
    /// finds every head it masks useful while the layer is still growing changes nothing, and the next one, on a layer
    /// that has not changed, usually finds the same: after each such check the gap doubles, up to this many steps, and it
    /// is back to <see cref="PruneEverySteps"/> as soon as a head is added or removed (a value at or below
    /// <see cref="PruneEverySteps"/> keeps the gap there). Default 3200 (since 2026-11-30;
    /// before, null): a layer whose heads all stay useful is checked at steps 200, 600, 1400, 3000, 6200, 9400, … instead
    /// of every 200, and the planted yardstick ends where it did (docs/algorithm.md §8).</summary>
    public int? MaxPruneEverySteps { get; init; } = 3200;

    /// <summary>Most heads masked in one prune check, or null to mask every candidate (a check then costs H + 1 probe
    /// forwards, which at many heads dominates training time: docs/benchmarks.md, issue 16). With a limit N a check
    /// costs at most N + 1: it masks the heads with no reading yet first, then those whose last reading was the cheapest,
    /// so a head that was cheap stays watched and the others are read in turn as the cheap ones are removed or found
    /// needed. Default 4 (since 2026-11-30; before, null): on the planted yardstick it ends every run where unbounded
    /// checks did, within ±1 head of the knee on 36/36 + 36/36 runs, and costs 5 probe forwards per check instead of
    /// 17 at 16 heads (docs/algorithm.md §8).</summary>
    public int? PruneProbeHeads { get; init; } = 4;

    /// <summary>Steps a head must have lived before it can be pruned. Default 200.</summary>
    public int PruneAgeSteps { get; init; } = 200;

    /// <summary>Steps a removal trial trains the layer without its cheapest head before judging whether the others took
    /// over its work; 0 prunes only heads whose masking alone costs less than a useful amount. Default 150.</summary>
    public int RemovalTrialSteps { get; init; } = 150;

    /// <summary>No growth trial or prune check before this step, or null to start at once: during a learning-rate
    /// warm-up the first loss windows can look flat (SST-2, 315 warm-up steps: a plateau was seen at step 99 and the
    /// run stopped growing at one head). Default null; the SST-2 and SARS-CoV-2 samples set it to their warm-up.</summary>
    public long? StartAtStep { get; init; }

    /// <summary>No new growth trial, prune check or removal trial after this step (a late change leaves no time to
    /// recover; trials already running finish), or null for no limit. Default null; the samples set it to 85% of the
    /// run.</summary>
    public long? FreezeAtStep { get; init; }

    /// <summary>Whether masking a head that raises the probe loss by <paramref name="increase"/> makes it useful, given
    /// the reference loss L₀ <paramref name="referenceLoss"/>.</summary>
    public bool IsUseful(double increase, double referenceLoss) => increase >= Math.Max(UsefulAbsolute, UsefulFraction * Math.Abs(referenceLoss));

    /// <summary>Throws an <see cref="ArgumentOutOfRangeException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        Positive(PlateauSteps, nameof(PlateauSteps));
        Positive(TrialSteps, nameof(TrialSteps));
        Positive(MaxWithdrawals, nameof(MaxWithdrawals));
        Positive(ProbeEverySteps, nameof(ProbeEverySteps));
        Positive(PruneEverySteps, nameof(PruneEverySteps));
        if (MaxPruneEverySteps is < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxPruneEverySteps), MaxPruneEverySteps, "MaxPruneEverySteps must be at least 1 or null.");
        if (PruneProbeHeads is < 1)
            throw new ArgumentOutOfRangeException(nameof(PruneProbeHeads), PruneProbeHeads, "PruneProbeHeads must be at least 1 or null.");
        if (RemovalTrialSteps < 0) throw new ArgumentOutOfRangeException(nameof(RemovalTrialSteps), RemovalTrialSteps, "RemovalTrialSteps must be ≥ 0.");
        if (PruneAgeSteps < 0) throw new ArgumentOutOfRangeException(nameof(PruneAgeSteps), PruneAgeSteps, "PruneAgeSteps must be ≥ 0.");
        if (!(PlateauImprovement >= 0 && PlateauImprovement < 1))
            throw new ArgumentOutOfRangeException(nameof(PlateauImprovement), PlateauImprovement, "PlateauImprovement must be in [0, 1).");
        if (!(UsefulAbsolute >= 0 && double.IsFinite(UsefulAbsolute)))
            throw new ArgumentOutOfRangeException(nameof(UsefulAbsolute), UsefulAbsolute, "UsefulAbsolute must be finite and ≥ 0.");
        if (!(UsefulFraction >= 0 && double.IsFinite(UsefulFraction)))
            throw new ArgumentOutOfRangeException(nameof(UsefulFraction), UsefulFraction, "UsefulFraction must be finite and ≥ 0.");
        if (StartAtStep is < 0) throw new ArgumentOutOfRangeException(nameof(StartAtStep), StartAtStep, "StartAtStep must be ≥ 0 or null.");
        if (FreezeAtStep is < 0)
            throw new ArgumentOutOfRangeException(nameof(FreezeAtStep), FreezeAtStep, "FreezeAtStep must be ≥ 0 or null.");
    }

    private static void Positive(int value, string name)
    {
        if (value < 1) throw new ArgumentOutOfRangeException(name, value, $"{name} must be at least 1.");
    }
}
