using FluentAssertions;
using Incrt.Control;
using Xunit;

namespace Incrt.Tests.Build;

public class DependencyTests
{
    [Fact]
    public void The_library_logs_through_the_abstractions_only_and_never_touches_the_console()
    {
        var refs = typeof(HeadController).Assembly.GetReferencedAssemblies().Select(a => a.Name).ToList();
        refs.Should().Contain("Microsoft.Extensions.Logging.Abstractions");
        refs.Should().NotContain(n => n!.StartsWith("Microsoft.Extensions.Logging.Console", StringComparison.Ordinal));
        refs.Should().NotContain("System.Console");
    }
}
