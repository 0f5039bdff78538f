namespace Incrt.Control;

/// <summary>
/// The largest eigenvalue of a small symmetric tridiagonal matrix and the last component of its unit eigenvector,
/// on the host: implicit QL with Wilkinson-type shifts that carries only the last row of the accumulated rotations,
/// so a Lanczos check costs O(m²) flops per row and no device round trip beyond reading α and β.
/// </summary>
internal static class TridiagonalTop
{
    private const int MaxSweeps = 60;

    /// <summary>For T with diagonal <paramref name="alpha"/>[0..m) and off-diagonal <paramref name="beta"/>[0..m−1):
    /// (θ = λmax(T), s_m = last component of θ's unit eigenvector). Null when QL did not converge (not seen in practice;
    /// the caller then treats the row as not yet certified).</summary>
    public static (double Theta, double LastComponent)? Compute(ReadOnlySpan<double> alpha, ReadOnlySpan<double> beta, int m)
    {
        if (m <= 0) throw new ArgumentOutOfRangeException(nameof(m), m, "The matrix needs at least one row.");
        var d = alpha[..m].ToArray();
        var e = new double[m];
        for (int i = 0; i < m - 1; i++) e[i] = beta[i];
        var z = new double[m];                                   // last row of the rotations' product, starts as e_mᵀ
        z[m - 1] = 1;
        for (int l = 0; l < m; l++)
        {
            for (int sweep = 0; ; sweep++)
            {
                int k = l;
                for (; k < m - 1; k++)
                {
                    double dd = Math.Abs(d[k]) + Math.Abs(d[k + 1]);
                    if (Math.Abs(e[k]) <= 1e-300 || Math.Abs(e[k]) + dd == dd) break;   // e[k] negligible: split here
                }
                if (k == l) break;
                if (sweep == MaxSweeps) return null;
                double g = (d[l + 1] - d[l]) / (2 * e[l]);
                double r = Hypot(g, 1);
                g = d[k] - d[l] + e[l] / (g + (g >= 0 ? r : -r));   // shift from the trailing 2×2 block
                double s = 1, c = 1, p = 0;
                int i = k - 1;
                bool deflated = false;
                for (; i >= l; i--)
                {
                    double f = s * e[i], b = c * e[i];
                    e[i + 1] = r = Hypot(f, g);
                    if (r == 0)
                    {
                        d[i + 1] -= p;
                        e[k] = 0;
                        deflated = true;
                        break;
                    }
                    s = f / r;
                    c = g / r;
                    g = d[i + 1] - p;
                    r = (d[i] - g) * s + 2 * c * b;
                    p = s * r;
                    d[i + 1] = g + p;
                    g = c * r - b;
                    double zi1 = z[i + 1];
                    z[i + 1] = s * z[i] + c * zi1;
                    z[i] = c * z[i] - s * zi1;
                }
                if (deflated) continue;
                d[l] -= p;
                e[l] = g;
                e[k] = 0;
            }
        }
        int top = 0;
        for (int i = 1; i < m; i++) if (d[i] > d[top]) top = i;
        return (d[top], z[top]);
    }

    private static double Hypot(double a, double b)
    {
        double x = Math.Abs(a), y = Math.Abs(b);
        if (x < y) (x, y) = (y, x);
        if (x == 0) return 0;
        double t = y / x;
        return x * Math.Sqrt(1 + t * t);
    }
}
