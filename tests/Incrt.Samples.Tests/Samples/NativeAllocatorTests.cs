using FluentAssertions;
using Incrt.Samples.Common;
using Xunit;

namespace Incrt.Tests.Samples;

/// <summary>The samples' glibc heap settings (<see cref="NativeAllocator"/>).</summary>
public class NativeAllocatorTests
{
    [Fact]
    public void Freed_memory_is_kept_for_reuse_on_linux_with_glibc()
    {
        bool applied = NativeAllocator.KeepFreedMemory(_ => null);
        if (OperatingSystem.IsLinux() && File.Exists("/lib/x86_64-linux-gnu/libc.so.6"))
            applied.Should().BeTrue("glibc accepts both settings");
        else if (!OperatingSystem.IsLinux())
            applied.Should().BeFalse("mallopt is glibc's");
    }

    [Theory]
    [InlineData("MALLOC_TRIM_THRESHOLD_")]
    [InlineData("MALLOC_MMAP_THRESHOLD_")]
    [InlineData("GLIBC_TUNABLES")]
    public void A_heap_variable_the_user_set_wins(string variable)
    {
        NativeAllocator.KeepFreedMemory(name => name == variable ? "131072" : null).Should().BeFalse();
    }
}
