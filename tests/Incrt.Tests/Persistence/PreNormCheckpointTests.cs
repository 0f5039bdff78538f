using FluentAssertions;
using Incrt.Models;
using Incrt.Persistence;
using Incrt.Tests.Data;
using Xunit;
using static TorchSharp.torch;

namespace Incrt.Tests.Persistence;

/// <summary>A pre-norm model survives a checkpoint as a pre-norm model (the layout is part of the options).</summary>
public class PreNormCheckpointTests
{
    [Fact]
    public void Pre_norm_layout_is_restored_and_gives_identical_outputs()
    {
        using var dir = new TempDirectory();
        using var scope = NewDisposeScope();
        var path = Path.Combine(dir.Path, "prenorm.incrt");
        var options = new IncrtModelOptions(VocabSize: 20, MaxLength: 6, DModel: 16, HeadDim: 4, Dropout: 0, PreNorm: true);
        manual_seed(11);
        using var model = new IncrtClassifier(options);
        model.eval();
        using var ids = randint(1, 20, new long[] { 4, 6 }, dtype: ScalarType.Int64);
        using var expected = model.forward(ids);

        IncrtCheckpoint.Save(path, model);
        var loaded = IncrtCheckpoint.Load(path);
        using var copy = loaded.Model;
        copy.eval();

        copy.Options.PreNorm.Should().BeTrue();
        copy.Options.Should().Be(options);
        copy.forward(ids).equal(expected).all().item<bool>().Should().BeTrue("a post-norm copy would give different outputs");
    }
}
