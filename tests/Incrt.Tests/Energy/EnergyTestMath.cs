using MathNet.Numerics.LinearAlgebra;
using static TorchSharp.torch;

namespace Incrt.Tests.Energy;

/// <summary>Independent (MathNet / plain C#) oracles and fixtures for the Energy tests.</summary>
internal static class EnergyTestMath
{
    /// <summary>A random orthogonal matrix from the QR factorisation of a Gaussian matrix (MathNet).</summary>
    public static Matrix<double> RandomOrthogonal(int d, Random rng)
    {
        var g = Matrix<double>.Build.Dense(d, d, (_, _) => Gaussian(rng));
        return g.QR().Q;
    }

    /// <summary>V diag(eigenvalues) Vᵀ with a random orthogonal V; returns the matrix and V (column i ↔ eigenvalues[i]).</summary>
    public static (double[,] A, Matrix<double> V) PlantedSymmetric(double[] eigenvalues, Random rng)
    {
        int d = eigenvalues.Length;
        var v = RandomOrthogonal(d, rng);
        var a = v * Matrix<double>.Build.DiagonalOfDiagonalArray(eigenvalues) * v.Transpose();
        a = 0.5 * (a + a.Transpose());
        return (a.ToArray(), v);
    }

    public static double[,] RandomMatrix(int rows, int cols, Random rng)
    {
        var m = new double[rows, cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                m[i, j] = Gaussian(rng);
        return m;
    }

    public static double[,] RandomSymmetric(int d, Random rng)
    {
        var m = RandomMatrix(d, d, rng);
        var s = new double[d, d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
                s[i, j] = 0.5 * (m[i, j] + m[j, i]);
        return s;
    }

    public static double[,] RandomSkew(int d, Random rng)
    {
        var m = RandomMatrix(d, d, rng);
        var s = new double[d, d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
                s[i, j] = m[i, j] - m[j, i];
        return s;
    }

    public static double Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Angle in radians between the lines spanned by u and v (sign-insensitive).</summary>
    public static double Angle(IReadOnlyList<double> u, IReadOnlyList<double> v)
    {
        double uv = 0, uu = 0, vv = 0;
        for (int i = 0; i < u.Count; i++) { uv += u[i] * v[i]; uu += u[i] * u[i]; vv += v[i] * v[i]; }
        double cos = Math.Abs(uv) / Math.Sqrt(uu * vv);
        double sin2 = 0;
        // sin from the residual, accurate for small angles.
        double scale = uv / vv;
        for (int i = 0; i < u.Count; i++) { double r = u[i] - scale * v[i]; sin2 += r * r; }
        return Math.Atan2(Math.Sqrt(sin2 / uu), cos);
    }

    public static double[] Column(Matrix<double> m, int j) => m.Column(j).ToArray();

    public static double[] ToHost(Tensor t) => t.numel() == 0 ? Array.Empty<double>() : t.to(ScalarType.Float64).cpu().contiguous().data<double>().ToArray();

    public static double[,] ToHost2D(Tensor t)
    {
        var flat = ToHost(t);
        int r = (int)t.shape[0], c = (int)t.shape[1];
        var m = new double[r, c];
        for (int i = 0; i < r; i++) for (int j = 0; j < c; j++) m[i, j] = flat[i * c + j];
        return m;
    }

    public static Matrix<double> M(double[,] a) => Matrix<double>.Build.DenseOfArray(a);

    public static double MaxAbs(Matrix<double> m) => m.Enumerate().Select(Math.Abs).DefaultIfEmpty(0).Max();
}
