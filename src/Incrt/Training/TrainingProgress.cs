namespace Incrt.Training;

/// <summary>A progress report of <see cref="Trainer"/>.</summary>
/// <param name="Epoch">Epoch (1-based).</param>
/// <param name="Step">Optimizer steps done.</param>
/// <param name="TotalSteps">Planned optimizer steps.</param>
/// <param name="Loss">Mean training loss since the previous report.</param>
/// <param name="StepsPerSecond">Throughput since the previous report.</param>
/// <param name="Heads">Head count per growable layer.</param>
/// <param name="LambdaMaxOverTheta">λmax/θ_w per layer (NaN before calibration or without a controller).</param>
/// <param name="LearningRate">Current learning rate.</param>
public sealed record TrainingProgress(int Epoch, long Step, long TotalSteps, double Loss, double StepsPerSecond,
    IReadOnlyList<int> Heads, IReadOnlyList<double> LambdaMaxOverTheta, double LearningRate);

/// <summary>An evaluation of a classifier on a labelled set.</summary>
/// <param name="Step">Optimizer steps done when it was taken.</param>
/// <param name="Accuracy">Fraction correct.</param>
/// <param name="Loss">Mean cross-entropy.</param>
/// <param name="Confusion">Counts [true class, predicted class].</param>
public sealed record EvaluationResult(long Step, double Accuracy, double Loss, long[,] Confusion)
{
    /// <summary>Examples evaluated.</summary>
    public long Count => Confusion.Cast<long>().Sum();

    /// <summary>Precision of class <paramref name="c"/> (NaN when nothing was predicted as c).</summary>
    public double Precision(int c) => Precision(Confusion, c);

    /// <summary>Recall of class <paramref name="c"/> (NaN when the class is absent).</summary>
    public double Recall(int c) => Recall(Confusion, c);

    /// <summary>Precision of class <paramref name="c"/> in a [true, predicted] confusion matrix (NaN when nothing was
    /// predicted as c).</summary>
    public static double Precision(long[,] confusion, int c)
    {
        ArgumentNullException.ThrowIfNull(confusion);
        long predicted = Enumerable.Range(0, confusion.GetLength(0)).Sum(t => confusion[t, c]);
        return predicted == 0 ? double.NaN : confusion[c, c] / (double)predicted;
    }

    /// <summary>Recall of class <paramref name="c"/> in a [true, predicted] confusion matrix (NaN when the class is
    /// absent).</summary>
    public static double Recall(long[,] confusion, int c)
    {
        ArgumentNullException.ThrowIfNull(confusion);
        long actual = Enumerable.Range(0, confusion.GetLength(1)).Sum(p => confusion[c, p]);
        return actual == 0 ? double.NaN : confusion[c, c] / (double)actual;
    }
}
