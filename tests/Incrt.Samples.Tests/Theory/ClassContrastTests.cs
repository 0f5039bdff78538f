using FluentAssertions;
using Incrt.Theory;
using Xunit;
using static TorchSharp.torch;

namespace Incrt.Tests.Theory;

public class ClassContrastTests
{
    [Fact]
    public void Class_contrasts_subtract_the_overall_mean_and_sum_to_zero_over_classes()
    {
        // Per-class sums of 4 flattened order statistics for 3 classes with 2, 5 and 3 members.
        using var classSum = tensor(new double[] { 100.5, 2, -3, 4, 10, 20, 30, 40, -7, 0.25, 8, 1 }, [3, 4]);
        var counts = new long[] { 2, 5, 3 };

        var contrasts = HeadCountPredictor.ClassContrasts(classSum, counts);

        contrasts.Should().HaveCount(3);
        foreach (var c in contrasts) c.shape.Should().Equal(4);
        using var total = stack(contrasts).sum(dim: 0);
        total.abs().max().item<double>().Should().BeLessThan(1e-12, "Σ_c (S_c/n − E[O]·n_c/n) = E[O] − E[O]");
        // First entry of class 0 by hand: 100.5/10 − ((100.5 + 10 − 7)/10)·(2/10).
        contrasts[0][0].item<double>().Should().BeApproximately(100.5 / 10 - (103.5 / 10) * 0.2, 1e-12);
        foreach (var c in contrasts) c.Dispose();
    }
}
