using FluentAssertions;
using Incrt.Build;
using Xunit;

namespace Incrt.Tests.Build;

public sealed class ElfVersionPatcherTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("incrt-elf-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(byte[] bytes)
    {
        var path = Path.Combine(_dir, "libLibTorchSharp.so");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void Patch_sets_the_weak_flag_on_exactly_the_named_version()
    {
        var original = ElfFixture.Build(["GLIBCXX_3.4.30", "GLIBCXX_3.4.32", "CXXABI_1.3"], [0, 0, 0]);
        var path = Write(original);

        ElfVersionPatcher.Patch(path, "GLIBCXX_3.4.32", out _).Should().Be(ElfPatchOutcome.Patched);

        var patched = File.ReadAllBytes(path);
        ElfVersionPatcher.FindVersionFlags(patched, "GLIBCXX_3.4.32", out _, out _).Should().Be(2);
        ElfVersionPatcher.FindVersionFlags(patched, "GLIBCXX_3.4.30", out _, out _).Should().Be(0);
        var differing = Enumerable.Range(0, original.Length).Where(i => original[i] != patched[i]).ToArray();
        differing.Should().HaveCount(1, "only the low byte of one vna_flags field changes");
    }

    [Fact]
    public void Patch_is_idempotent()
    {
        var path = Write(ElfFixture.Build(["GLIBCXX_3.4.32"], [0]));
        ElfVersionPatcher.Patch(path, "GLIBCXX_3.4.32", out _).Should().Be(ElfPatchOutcome.Patched);
        var once = File.ReadAllBytes(path);
        var stamp = File.GetLastWriteTimeUtc(path);

        ElfVersionPatcher.Patch(path, "GLIBCXX_3.4.32", out _).Should().Be(ElfPatchOutcome.AlreadyWeak);
        File.ReadAllBytes(path).Should().Equal(once);
        File.GetLastWriteTimeUtc(path).Should().Be(stamp, "an already weak file is not rewritten");
    }

    [Fact]
    public void Patch_leaves_a_file_without_the_requirement_alone()
    {
        var original = ElfFixture.Build(["GLIBCXX_3.4.30"], [0]);
        var path = Write(original);
        ElfVersionPatcher.Patch(path, "GLIBCXX_3.4.32", out _).Should().Be(ElfPatchOutcome.NotRequired);
        File.ReadAllBytes(path).Should().Equal(original);
    }

    [Theory]
    [InlineData("not-elf")]
    [InlineData("elf32")]
    [InlineData("truncated")]
    [InlineData("verneed-out-of-range")]
    public void Patch_rejects_malformed_input_without_writing(string corruption)
    {
        var bytes = ElfFixture.Build(["GLIBCXX_3.4.32"], [0]);
        switch (corruption)
        {
            case "not-elf": bytes[1] = (byte)'X'; break;
            case "elf32": bytes[4] = 1; break;
            case "truncated": bytes = bytes[..(bytes.Length - 70)]; break;
            case "verneed-out-of-range":
                int shoff = (int)BitConverter.ToUInt64(bytes, 0x28);
                BitConverter.GetBytes((ulong)1_000_000).CopyTo(bytes, shoff + 2 * 64 + 0x20);
                break;
        }
        var path = Write(bytes);

        ElfVersionPatcher.Patch(path, "GLIBCXX_3.4.32", out var detail).Should().Be(ElfPatchOutcome.Malformed);
        detail.Should().NotBeNullOrWhiteSpace();
        File.ReadAllBytes(path).Should().Equal(bytes);
        Directory.GetFiles(_dir).Should().HaveCount(1, "no temporary file is left behind");
    }

    [Fact]
    public void The_output_copy_of_LibTorchSharp_no_longer_requires_the_version_strictly()
    {
        if (!OperatingSystem.IsLinux()) return;
        var so = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        File.Exists(so).Should().BeTrue($"the build copies TorchSharp's native library to {so}");
        var flags = ElfVersionPatcher.FindVersionFlags(File.ReadAllBytes(so), "GLIBCXX_3.4.32", out _, out var error);
        error.Should().BeNull();
        bool hostHasIt = ElfVersionPatcher.HostLibStdCxxHasVersion("GLIBCXX_3.4.32", out _);
        if (!hostHasIt && flags != -1)
            (flags!.Value & 2).Should().Be(2, "the build must weaken the requirement on hosts that lack it");
    }
}
