using FluentAssertions;
using Incrt.Control;
using Incrt.Tasks.Data;
using Incrt.Tasks.Data.SarsCov2;
using Incrt.Theory;
using Xunit;

namespace Incrt.Tests.Build;

/// <summary>
/// Issue 19: the Incrt package holds the method only. Datasets and tasks live in Incrt.Tasks, theory and analysis
/// tools in Incrt.Analysis; neither is packed.
/// </summary>
public class PackageZoningTests
{
    private static readonly string[] MethodNamespaces =
    [
        "Incrt.Attention", "Incrt.Control", "Incrt.Energy", "Incrt.Models", "Incrt.Persistence", "Incrt.Surgery",
        "Incrt.Training", "Incrt.IO",
    ];

    [Fact]
    public void The_package_exports_only_the_method_namespaces()
    {
        var namespaces = typeof(HeadController).Assembly.GetExportedTypes().Select(t => t.Namespace).Distinct().ToList();
        namespaces.Should().OnlyContain(n => MethodNamespaces.Contains(n));
    }

    [Fact]
    public void Datasets_simulators_and_predictors_live_outside_the_package()
    {
        typeof(DataPaths).Assembly.GetName().Name.Should().Be("Incrt.Tasks");
        typeof(WordVocabulary).Assembly.GetName().Name.Should().Be("Incrt.Tasks");
        typeof(SpikeSimulator).Assembly.GetName().Name.Should().Be("Incrt.Tasks");
        typeof(HeadCountPredictor).Assembly.GetName().Name.Should().Be("Incrt.Analysis");
        typeof(HeadController).Assembly.GetReferencedAssemblies().Select(a => a.Name)
            .Should().NotContain(["Incrt.Tasks", "Incrt.Analysis"]);
    }
}
