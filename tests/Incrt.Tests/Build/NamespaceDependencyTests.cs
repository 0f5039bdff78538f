using System.Text.RegularExpressions;
using FluentAssertions;
using Xunit;

namespace Incrt.Tests.Build;

/// <summary>Issue 19: the package's namespaces depend on each other without a cycle, and no source file grows past the
/// size a reader can hold.</summary>
public partial class NamespaceDependencyTests
{
    private static readonly string[] Namespaces = ["Attention", "Control", "Energy", "IO", "Models", "Persistence", "Surgery", "Training"];

    private static string SourceRoot(string project)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Incrt.sln"))) dir = dir.Parent;
        dir.Should().NotBeNull("the tests run inside the repository");
        return Path.Combine(dir!.FullName, "src", project);
    }

    private static IEnumerable<string> Sources(string project) =>
        Directory.EnumerateFiles(SourceRoot(project), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"));

    /// <summary>namespace → the package namespaces its code names (using directives and qualified names; comments ignored).</summary>
    internal static Dictionary<string, HashSet<string>> Dependencies()
    {
        var reference = new Regex(@"(?<![\w.])(?:Incrt\.)?(" + string.Join("|", Namespaces) + @")\.[A-Z]\w*");
        var deps = new Dictionary<string, HashSet<string>>();
        foreach (var file in Sources("Incrt"))
        {
            var text = File.ReadAllText(file);
            var ns = NamespaceLine().Match(text);
            if (!ns.Success) continue;
            var set = deps.TryGetValue(ns.Groups[1].Value, out var s) ? s : deps[ns.Groups[1].Value] = new();
            foreach (var line in text.Split('\n').Select(l => l.Trim()).Where(l => !l.StartsWith("//", StringComparison.Ordinal)))
            {
                if (UsingLine().Match(line) is { Success: true } u) set.Add(u.Groups[1].Value);
                foreach (Match m in reference.Matches(line)) set.Add(m.Groups[1].Value);
            }
            set.Remove(ns.Groups[1].Value);
        }
        return deps;
    }

    [GeneratedRegex(@"^namespace Incrt\.(\w+);", RegexOptions.Multiline)]
    private static partial Regex NamespaceLine();

    [GeneratedRegex(@"^using Incrt\.(\w+);")]
    private static partial Regex UsingLine();

    [Fact]
    public void The_package_namespaces_form_no_cycle()
    {
        var deps = Dependencies();
        deps.Keys.Should().Contain(["Attention", "Control", "Persistence", "Training"]);
        // Kahn: repeatedly drop namespaces that depend on nothing left; whatever remains lies on a cycle.
        var left = deps.ToDictionary(kv => kv.Key, kv => kv.Value.Where(deps.ContainsKey).ToHashSet());
        while (left.FirstOrDefault(kv => kv.Value.Count == 0) is { Key: not null } free)
        {
            left.Remove(free.Key);
            foreach (var d in left.Values) d.Remove(free.Key);
        }
        left.Keys.Should().BeEmpty("namespaces on a cycle: " + string.Join("; ", left.Select(kv => $"{kv.Key} → {string.Join(", ", kv.Value)}")));
    }

    [Fact]
    public void The_scan_sees_the_dependencies_that_exist()
    {
        var deps = Dependencies();
        deps["Persistence"].Should().Contain("Control", "checkpoints save controller state");
        deps["Control"].Should().Contain("IO", "traces are written atomically").And.NotContain("Persistence");
    }

    [Theory]
    [InlineData("Incrt")]
    [InlineData("Incrt.Tasks")]
    [InlineData("Incrt.Analysis")]
    public void No_source_file_is_over_400_lines(string project)
    {
        var large = Sources(project).Select(f => (File: Path.GetFileName(f), Lines: File.ReadAllLines(f).Length)).Where(f => f.Lines > 400).ToList();
        large.Should().BeEmpty();
    }
}
