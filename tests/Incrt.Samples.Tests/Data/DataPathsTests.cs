using FluentAssertions;
using Incrt.Tasks.Data;
using Xunit;

namespace Incrt.Tests.Data;

public class DataPathsTests
{
    [Fact]
    public void Default_is_the_shared_data_folder_beside_the_repository()
    {
        var root = DataPaths.FindRepositoryRoot(AppContext.BaseDirectory);
        root.Should().NotBeNull("the test binaries live inside the repository");
        var resolved = DataPaths.Resolve(null, null, [AppContext.BaseDirectory]);
        resolved.Should().Be(Path.GetFullPath(Path.Combine(root!, "..", "shared", "data")));
        File.Exists(DataPaths.Sst2File(resolved, "dev")).Should().BeTrue();
    }

    [Fact]
    public void Default_is_found_by_walking_up_from_a_nested_directory()
    {
        using var dir = new TempDirectory();
        dir.File("repo/Incrt.sln", "");
        var data = Directory.CreateDirectory(Path.Combine(dir.Path, "shared", "data")).FullName;
        var nested = Directory.CreateDirectory(Path.Combine(dir.Path, "repo", "a", "b", "c")).FullName;
        DataPaths.Resolve(null, null, [Path.Combine(dir.Path, "elsewhere"), nested]).Should().Be(data);
    }

    [Fact]
    public void Environment_variable_overrides_the_default_and_explicit_path_overrides_both()
    {
        using var dir = new TempDirectory();
        var env = Directory.CreateDirectory(Path.Combine(dir.Path, "env")).FullName;
        var cli = Directory.CreateDirectory(Path.Combine(dir.Path, "cli")).FullName;
        DataPaths.Resolve(null, env, [AppContext.BaseDirectory]).Should().Be(env);
        DataPaths.Resolve(cli, env, [AppContext.BaseDirectory]).Should().Be(cli);
    }

    [Fact]
    public void Missing_explicit_or_environment_folder_throws_and_explains_how_to_override()
    {
        using var dir = new TempDirectory();
        var missing = Path.Combine(dir.Path, "missing");
        var cli = () => DataPaths.Resolve(missing, null, [AppContext.BaseDirectory]);
        cli.Should().Throw<DirectoryNotFoundException>().Which.Message.Should().Contain(missing).And.Contain("--data");
        var env = () => DataPaths.Resolve(null, missing, [AppContext.BaseDirectory]);
        env.Should().Throw<DirectoryNotFoundException>().Which.Message.Should().Contain(missing).And.Contain("INCRT_DATA");
    }

    [Fact]
    public void No_repository_found_throws_listing_what_was_searched()
    {
        using var dir = new TempDirectory();
        var act = () => DataPaths.Resolve(null, null, [dir.Path]);
        act.Should().Throw<DirectoryNotFoundException>().Which.Message
            .Should().Contain(dir.Path).And.Contain("Incrt.sln").And.Contain("--data <folder>").And.Contain("INCRT_DATA");
    }

    [Fact]
    public void Repository_without_a_shared_data_sibling_throws_naming_the_candidate()
    {
        using var dir = new TempDirectory();
        dir.File("repo/Incrt.sln", "");
        var act = () => DataPaths.Resolve(null, null, [Path.Combine(dir.Path, "repo")]);
        act.Should().Throw<DirectoryNotFoundException>().Which.Message.Should().Contain(Path.Combine(dir.Path, "shared", "data"));
    }
}
