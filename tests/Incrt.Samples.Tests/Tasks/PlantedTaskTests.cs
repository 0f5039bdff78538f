using FluentAssertions;
using Incrt.Tasks.Planted;
using Xunit;

namespace Incrt.Tests.Tasks;

/// <summary>The planted-task generators: shapes, determinism by seed, distinct offsets/positions, and labels that follow
/// the definition on hand-made sequences.</summary>
public class PlantedTaskTests
{
    private static PlantedTask Task(PlantedFamily family, int k, int seed = 1, int length = 12, int values = 64) =>
        PlantedTask.Create(new PlantedTaskOptions { Family = family, K = k, Seed = seed, Length = length, Values = values, Fillers = 5 });

    [Theory]
    [InlineData(PlantedFamily.OffsetRetrieval)]
    [InlineData(PlantedFamily.SegmentRetrieval)]
    public void Generate_gives_cls_first_sequences_of_length_plus_one_and_k_labels_in_range(PlantedFamily family)
    {
        var task = Task(family, 3);
        var data = task.Generate(50, splitSeed: 7);
        data.Count.Should().Be(50);
        data.SequenceLength.Should().Be(13);
        data.Outputs.Should().Be(3);
        for (int i = 0; i < data.Count; i++)
        {
            var seq = data.Sequence(i);
            seq.Should().HaveCount(13);
            seq[0].Should().Be(PlantedTask.ClsId);
            seq.Skip(1).Should().OnlyContain(t => t > PlantedTask.ClsId && t < task.VocabularySize);
            data.Labels(i).Should().OnlyContain(l => l >= 0 && l < task.Classes);
            task.LabelsOf(seq).Should().Equal(data.Labels(i), "the stored labels follow the task's definition");
        }
        var (ids, labels) = data.ToTensors();
        using (ids) using (labels)
        {
            ids.shape.Should().Equal(50, 13);
            labels.shape.Should().Equal(50, 3);
        }
    }

    [Theory]
    [InlineData(PlantedFamily.OffsetRetrieval)]
    [InlineData(PlantedFamily.SegmentRetrieval)]
    public void Same_seeds_give_the_same_examples_and_other_seeds_other_ones(PlantedFamily family)
    {
        var a = Task(family, 2).Generate(20, 3);
        var b = Task(family, 2).Generate(20, 3);
        var otherSplit = Task(family, 2).Generate(20, 4);
        var otherTask = Task(family, 2, seed: 2).Generate(20, 3);
        Enumerable.Range(0, 20).All(i => a.Sequence(i).SequenceEqual(b.Sequence(i))).Should().BeTrue();
        Enumerable.Range(0, 20).All(i => a.Sequence(i).SequenceEqual(otherSplit.Sequence(i))).Should().BeFalse();
        Enumerable.Range(0, 20).All(i => a.Sequence(i).SequenceEqual(otherTask.Sequence(i))).Should().BeFalse();
    }

    [Fact]
    public void Offsets_are_k_distinct_positions_inside_the_sequence_and_depend_on_the_seed()
    {
        for (int seed = 1; seed <= 20; seed++)
        {
            var offsets = ((OffsetRetrievalTask)Task(PlantedFamily.OffsetRetrieval, 5, seed)).Offsets;
            offsets.Should().HaveCount(5).And.OnlyHaveUniqueItems().And.BeInAscendingOrder();
            offsets.Should().OnlyContain(o => o >= 1 && o <= 12);
        }
        Enumerable.Range(1, 20).Select(seed => string.Join(',', ((OffsetRetrievalTask)Task(PlantedFamily.OffsetRetrieval, 5, seed)).Offsets))
            .Distinct().Count().Should().BeGreaterThan(1);
        ((OffsetRetrievalTask)Task(PlantedFamily.OffsetRetrieval, 12)).Offsets.Should().Equal(Enumerable.Range(1, 12), "K = Length uses every position");
    }

    [Fact]
    public void Offset_retrieval_labels_a_hand_made_sequence_with_the_tokens_at_its_offsets()
    {
        var task = (OffsetRetrievalTask)Task(PlantedFamily.OffsetRetrieval, 3, values: 20);
        var seq = new int[13];
        seq[0] = PlantedTask.ClsId;
        for (int p = 1; p <= 12; p++) seq[p] = OffsetRetrievalTask.TokenOf(p); // value p at position p
        task.LabelsOf(seq).Should().Equal(task.Offsets.ToArray());
    }

    [Fact]
    public void Segment_retrieval_labels_a_hand_made_sequence_with_the_value_in_each_segment()
    {
        var task = (SegmentRetrievalTask)Task(PlantedFamily.SegmentRetrieval, 3);
        task.SegmentLength.Should().Be(4);
        var seq = Enumerable.Repeat(task.FillerOf(1), 13).ToArray();
        seq[0] = PlantedTask.ClsId;
        seq[3] = task.TokenOf(40);  // segment 0: positions 1-4
        seq[5] = task.TokenOf(7);   // segment 1: positions 5-8
        seq[12] = task.TokenOf(63); // segment 2: positions 9-12
        task.LabelsOf(seq).Should().Equal(40, 7, 63);
    }

    [Fact]
    public void Segment_retrieval_puts_one_value_in_every_segment_at_varying_positions()
    {
        var task = (SegmentRetrievalTask)Task(PlantedFamily.SegmentRetrieval, 4);
        var data = task.Generate(300, 1);
        var positionsInSegment0 = new HashSet<int>();
        for (int i = 0; i < data.Count; i++)
        {
            var seq = data.Sequence(i);
            for (int j = 0; j < 4; j++)
                seq.Skip(1 + j * 3).Take(3).Count(t => t >= task.TokenOf(0)).Should().Be(1);
            positionsInSegment0.Add(Array.FindIndex(seq, 1, t => t >= task.TokenOf(0)));
        }
        positionsInSegment0.Should().BeEquivalentTo(new[] { 1, 2, 3 }, "the value moves within its segment");
        var twice = data.Sequence(0);
        twice[1] = twice[2] = twice[3] = task.TokenOf(5);
        task.Invoking(t => t.LabelsOf(twice)).Should().Throw<ArgumentException>().WithMessage("*segment 0 holds two value tokens*");
    }

    [Theory]
    [InlineData(PlantedFamily.OffsetRetrieval, 13, 12, "K")]
    [InlineData(PlantedFamily.SegmentRetrieval, 7, 12, "K")]
    [InlineData(PlantedFamily.OffsetRetrieval, 0, 12, "K")]
    [InlineData(PlantedFamily.OffsetRetrieval, 2, 0, "Length")]
    public void Impossible_settings_are_rejected_naming_the_setting(PlantedFamily family, int k, int length, string name)
    {
        var options = new PlantedTaskOptions { Family = family, K = k, Length = length };
        options.Invoking(o => o.Validate()).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be(name);
        FluentActions.Invoking(() => PlantedTask.Create(options)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Hand_made_sequences_of_the_wrong_shape_are_rejected()
    {
        var task = Task(PlantedFamily.OffsetRetrieval, 2);
        task.Invoking(t => t.LabelsOf(new int[5])).Should().Throw<ArgumentException>().WithMessage("*13 tokens*");
        var noCls = task.Generate(1, 1).Sequence(0);
        noCls[0] = 5;
        task.Invoking(t => t.LabelsOf(noCls)).Should().Throw<ArgumentException>().WithMessage("*[CLS]*");
    }
}
