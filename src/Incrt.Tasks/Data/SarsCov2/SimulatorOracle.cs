namespace Incrt.Tasks.Data.SarsCov2;

/// <summary>
/// A likelihood classifier that knows what no trained model may know: every class's lineages and their full mutation
/// profiles, and the <see cref="SpikeSimulator"/>'s noise model with the exact settings of the data it scores. It
/// approximates the Bayes-optimal decision, so its accuracy on a simulated set is (close to) the best any model can
/// reach there: a yardstick for what is attainable, not a model (it is never trained and never saved).
/// </summary>
/// <remarks>
/// <para>Each sequence is aligned once to the reference (banded global alignment, free end gaps for trimming, <c>X</c>
/// matches anything). Only the "windows" around the sites any lineage of the task mutates (±<see cref="Margin"/>
/// residues, merged when they overlap) can tell lineages apart; elsewhere every lineage has the reference residue, so
/// those positions scale every likelihood alike and are skipped. In a window, a lineage's likelihood is exact under
/// the simulator's model: a sum over which of its indel events (a run of consecutive deletions is one event) are
/// present, and per position a mixture of "mutation kept" (probability <c>keep</c>) and "left out"; an observed residue
/// equals the true one with probability 1 − β and is each of the 19 others with β/19, β = background mean / length
/// (one background substitution per position at most); <c>X</c> says nothing. A window cut by trimming is compared on
/// the part that survives. A class's likelihood is the mean over its lineages (the simulator draws them uniformly).</para>
/// <para>Approximations: two background hits at one position, and the (rare) alignment that moves a gap past a window's
/// anchor, are ignored. The number is therefore an estimate of the attainable score, good to a few sequences.</para>
/// </remarks>
public sealed class SimulatorOracle
{
    /// <summary>Residues of context on each side of a mutated site (absorbs gap placement in short repeats).</summary>
    public const int Margin = 3;

    private const int BandLow = -80, BandHigh = 40; // obs index − ref index
    private const double Floor = 1e-300;

    private readonly string _ref;
    private readonly List<(int A, int B)> _windows = [];
    private readonly List<LineageModel[]> _classes = [];

    private sealed record Event(List<SpikeMutation> Mutations)
    {
        public bool IsIndel => Mutations[0].Kind != SpikeMutationKind.Substitution;
    }

    private sealed record LineageModel(string Name, List<Event>[] EventsByWindow);

    /// <summary>Builds the oracle for the classes of a task.</summary>
    /// <param name="catalog">Lineages and reference.</param>
    /// <param name="classes">The task's classes in class-index order (e.g. <see cref="SarsCov2TaskBuilder.GetClasses"/>).</param>
    public SimulatorOracle(LineageCatalog catalog, IReadOnlyList<SarsCov2Class> classes)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(classes);
        _ref = catalog.Reference.Sequence;
        int n = _ref.Length;
        var profiles = classes.SelectMany(c => c.Lineages).Distinct().ToDictionary(l => l, catalog.GetProfile);
        var spans = profiles.Values.SelectMany(p => p)
            .Select(m => (A: Math.Max(1, m.Position - Margin), B: Math.Min(n, m.Position + Margin + (m.Kind == SpikeMutationKind.Insertion ? 1 : 0))))
            .OrderBy(s => s.A).ToList();
        foreach (var s in spans)
        {
            if (_windows.Count > 0 && s.A <= _windows[^1].B + 1) _windows[^1] = (_windows[^1].A, Math.Max(_windows[^1].B, s.B));
            else _windows.Add(s);
        }
        foreach (var c in classes)
        {
            _classes.Add(c.Lineages.Select(l =>
            {
                var byWindow = Enumerable.Range(0, _windows.Count).Select(_ => new List<Event>()).ToArray();
                foreach (var e in Events(profiles[l])) byWindow[WindowOf(e.Mutations[0].Position)].Add(e);
                return new LineageModel(l, byWindow);
            }).ToArray());
        }
    }

    /// <summary>Number of scoring windows (merged mutated sites of the task).</summary>
    public int Windows => _windows.Count;

    /// <summary>The class with the highest likelihood under the given simulator settings.</summary>
    /// <param name="sequence">The observed protein.</param>
    /// <param name="options">The simulator settings the sequence was drawn with.</param>
    public int Predict(string sequence, SpikeSimulationOptions options)
    {
        var ll = ClassLogLikelihoods(sequence, options);
        int best = 0;
        for (int c = 1; c < ll.Length; c++) if (ll[c] > ll[best]) best = c;
        return best;
    }

    /// <summary>Log-likelihood of the sequence under each class (up to a constant shared by all classes).</summary>
    /// <param name="sequence">The observed protein.</param>
    /// <param name="options">The simulator settings the sequence was drawn with.</param>
    public double[] ClassLogLikelihoods(string sequence, SpikeSimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(sequence);
        ArgumentNullException.ThrowIfNull(options);
        int[] refToObs = Align(sequence);
        double keep = options.MutationPresenceProbability, beta = Math.Min(0.5, options.BackgroundSubstitutionMean / _ref.Length);
        var groups = Groups(sequence, refToObs);
        var result = new double[_classes.Count];
        for (int c = 0; c < _classes.Count; c++)
        {
            var perLineage = _classes[c].Select(l =>
            {
                double sum = 0;
                foreach (var g in groups)
                {
                    var events = g.Windows.SelectMany(w => l.EventsByWindow[w]).ToList();
                    sum += Math.Log(Math.Max(Floor, WindowLikelihood(g.Obs, g.Lo, g.Hi, g.Side, events, keep, beta)));
                }
                return sum;
            }).ToArray();
            double max = perLineage.Max();
            result[c] = max + Math.Log(perLineage.Sum(v => Math.Exp(v - max)) / perLineage.Length);
        }
        return result;
    }

    /// <summary>The simulator's events: each mutation alone, except a run of consecutive deletions (kept or dropped whole).</summary>
    private static IEnumerable<Event> Events(IReadOnlyList<SpikeMutation> profile)
    {
        for (int i = 0; i < profile.Count;)
        {
            int j = i + 1;
            while (j < profile.Count && profile[i].Kind == SpikeMutationKind.Deletion && profile[j].Kind == SpikeMutationKind.Deletion &&
                   profile[j].Position == profile[j - 1].Position + 1) j++;
            yield return new Event(profile.Skip(i).Take(j - i).ToList());
            i = j;
        }
    }

    private int WindowOf(int position)
    {
        for (int w = 0; w < _windows.Count; w++) if (position >= _windows[w].A && position <= _windows[w].B) return w;
        throw new InvalidOperationException($"Position {position} lies in no window.");
    }

    /// <summary>One stretch to score: the observed residues between two anchors (the nearest reference positions
    /// outside the windows that are solidly aligned, see <c>Anchor</c>), the reference range [Lo, Hi] they stand for, the windows inside, and which side is open because trimming
    /// removed the anchor (−1 left, +1 right, 0 none). Windows whose stretches overlap are merged.</summary>
    private sealed record Stretch(string Obs, int Lo, int Hi, int Side, List<int> Windows);

    private List<Stretch> Groups(string obs, int[] refToObs)
    {
        int n = _ref.Length;
        // An anchor is a reference residue aligned to the same residue with both neighbours aligned likewise next to
        // it: an X run or a background substitution nearby leaves the alignment free to move a gap, so the stretch
        // extends past them to the next solid anchor.
        bool Exact(int q) => refToObs[q] >= 0 && obs[refToObs[q]] == _ref[q - 1];
        bool Anchor(int q) => q > 1 && q < n && Exact(q - 1) && Exact(q) && Exact(q + 1) &&
                              refToObs[q] == refToObs[q - 1] + 1 && refToObs[q + 1] == refToObs[q] + 1;
        var spans = new List<(int Left, int Right, List<int> Windows)>();
        for (int w = 0; w < _windows.Count; w++)
        {
            int left = _windows[w].A - 1, right = _windows[w].B + 1;
            while (left >= 1 && !Anchor(left)) left--;
            while (right <= n && !Anchor(right)) right++;
            // An anchor pushed out past an X run can reach back over several earlier stretches: merge them all.
            var windows = new List<int>();
            while (spans.Count > 0 && left < spans[^1].Right)
            {
                var last = spans[^1];
                spans.RemoveAt(spans.Count - 1);
                windows.InsertRange(0, last.Windows);
                left = Math.Min(last.Left, left);
                right = Math.Max(last.Right, right);
            }
            windows.Add(w);
            spans.Add((left, right, windows));
        }
        var result = new List<Stretch>();
        foreach (var (left, right, windows) in spans)
        {
            bool leftOpen = left < 1, rightOpen = right > n;
            if (leftOpen && rightOpen) continue;
            int start = leftOpen ? 0 : refToObs[left] + 1, end = rightOpen ? obs.Length : refToObs[right];
            if (end <= start) continue;
            result.Add(new Stretch(obs[start..end], leftOpen ? 1 : left + 1, rightOpen ? n : right - 1, leftOpen ? -1 : rightOpen ? 1 : 0, windows));
        }
        return result;
    }

    /// <summary>P(observed segment | lineage) over the reference range [lo, hi]: a sum over the lineage's indel events
    /// there, each position a keep/leave-out mixture of its substitution (if any) under the background model.</summary>
    private double WindowLikelihood(string obs, int lo, int hi, int side, List<Event> events, double keep, double beta)
    {
        var indels = events.Where(e => e.IsIndel).ToList();
        var subs = events.Where(e => !e.IsIndel).ToDictionary(e => e.Mutations[0].Position, e => e.Mutations[0].To[0]);
        double total = 0;
        for (int mask = 0; mask < 1 << indels.Count; mask++)
        {
            double prior = 1;
            var deleted = new HashSet<int>();
            var inserted = new Dictionary<int, string>();
            for (int i = 0; i < indels.Count; i++)
            {
                bool present = (mask & (1 << i)) != 0;
                prior *= present ? keep : 1 - keep;
                if (!present) continue;
                foreach (var m in indels[i].Mutations)
                {
                    if (m.Kind == SpikeMutationKind.Deletion) deleted.Add(m.Position);
                    else inserted[m.Position] = m.To;
                }
            }
            if (prior == 0) continue;
            // The candidate: per output position, the reference residue and the substitution that may replace it.
            var cand = new List<(char Ref, char? Alt)>();
            if (inserted.TryGetValue(lo - 1, out var lead)) cand.AddRange(lead.Select(ch => (ch, (char?)null)));
            for (int p = lo; p <= hi; p++)
            {
                if (!deleted.Contains(p)) cand.Add((_ref[p - 1], subs.TryGetValue(p, out var alt) ? alt : null));
                if (inserted.TryGetValue(p, out var s)) cand.AddRange(s.Select(ch => (ch, (char?)null)));
            }
            int len;
            int candOffset, obsOffset;
            if (side == 0)
            {
                if (cand.Count != obs.Length) continue;
                len = obs.Length; candOffset = obsOffset = 0;
            }
            else
            {
                len = Math.Min(cand.Count, obs.Length);
                candOffset = side < 0 ? cand.Count - len : 0;
                obsOffset = side < 0 ? obs.Length - len : 0;
            }
            double like = prior;
            for (int i = 0; i < len && like > 0; i++)
            {
                char o = obs[obsOffset + i];
                if (o == AminoAcids.Unknown) continue;
                var (r, a) = cand[candOffset + i];
                double e(char t) => o == t ? 1 - beta : beta / 19;
                like *= a is char alt ? keep * e(alt) + (1 - keep) * e(r) : e(r);
            }
            total += like;
        }
        return total;
    }

    /// <summary>Banded global alignment of the observed sequence to the reference (match or <c>X</c> 0, mismatch 1,
    /// gap 2; reference residues before the first and after the last observed one are free, as trimming removes
    /// them). Returns, per 1-based reference position, the observed index aligned to it, or −1.</summary>
    private int[] Align(string obs)
    {
        int n = _ref.Length, m = obs.Length, width = BandHigh - BandLow + 1;
        const int Gap = 2, Inf = int.MaxValue / 4;
        var cost = new int[n + 1, width];
        var move = new byte[n + 1, width]; // 0 diagonal, 1 gap in obs (ref consumed), 2 gap in ref (obs consumed), 3 start
        for (int i = 0; i <= n; i++)
        {
            for (int k = 0; k < width; k++)
            {
                int j = i + BandLow + k;
                if (j < 0 || j > m) { cost[i, k] = Inf; continue; }
                if (j == 0) { cost[i, k] = 0; move[i, k] = 3; continue; } // free leading reference residues
                int best = Inf; byte how = 0;
                if (i > 0 && k < width) // diagonal: (i−1, j−1) has the same k
                {
                    int prev = cost[i - 1, k];
                    if (prev < Inf)
                    {
                        char o = obs[j - 1];
                        int c = prev + (o == AminoAcids.Unknown || o == _ref[i - 1] ? 0 : 1);
                        if (c < best) { best = c; how = 0; }
                    }
                }
                if (i > 0 && k + 1 < width && cost[i - 1, k + 1] < Inf && cost[i - 1, k + 1] + Gap < best) { best = cost[i - 1, k + 1] + Gap; how = 1; }
                if (k > 0 && cost[i, k - 1] < Inf && cost[i, k - 1] + Gap < best) { best = cost[i, k - 1] + Gap; how = 2; }
                cost[i, k] = best; move[i, k] = how;
            }
        }
        // Free trailing reference residues: end at the cheapest row where all observed residues are used.
        int endI = -1, endCost = Inf;
        for (int i = 0; i <= n; i++)
        {
            int k = m - i - BandLow;
            if (k >= 0 && k < width && cost[i, k] < endCost) { endCost = cost[i, k]; endI = i; }
        }
        var map = new int[n + 1];
        Array.Fill(map, -1);
        if (endI < 0) return map;
        int ii = endI, jj = m;
        while (jj > 0)
        {
            int k = jj - ii - BandLow;
            switch (move[ii, k])
            {
                case 0: map[ii] = jj - 1; ii--; jj--; break;
                case 1: ii--; break;
                case 2: jj--; break;
                default: jj = 0; break;
            }
        }
        return map;
    }
}
