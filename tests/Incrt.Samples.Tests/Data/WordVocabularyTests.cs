using FluentAssertions;
using Incrt.Tasks.Data;
using Xunit;

namespace Incrt.Tests.Data;

public class WordVocabularyTests
{
    [Theory]
    [InlineData("Hide NEW  secretions\tfrom", new[] { "hide", "new", "secretions", "from" })]
    [InlineData("it does n't work , really ...", new[] { "it", "does", "n't", "work", ",", "really", "..." })]
    [InlineData("end. (well-made) ``quoted'' dogs' 's", new[] { "end", ".", "(", "well-made", ")", "``", "quoted", "''", "dogs", "'", "'s" })]
    [InlineData("wow!!!great", new[] { "wow", "!!!", "great" })]
    [InlineData("   ", new string[0])]
    public void Tokenize_lowercases_splits_on_whitespace_and_splits_off_punctuation_runs(string text, string[] expected) =>
        WordVocabulary.Tokenize(text).Should().Equal(expected);

    [Fact]
    public void Specials_come_first_and_words_are_ordered_by_frequency_then_text()
    {
        var v = WordVocabulary.Build(["b a c", "a b", "a"]);
        v.Tokens.Should().Equal("[PAD]", "[UNK]", "[CLS]", "a", "b", "c");
        v.IdOf("[PAD]").Should().Be(WordVocabulary.PadId).And.Be(0);
        v.IdOf("[UNK]").Should().Be(WordVocabulary.UnknownId).And.Be(1);
        v.IdOf("[CLS]").Should().Be(WordVocabulary.ClsId).And.Be(2);
    }

    [Fact]
    public void Min_frequency_and_max_size_drop_rare_words()
    {
        var texts = new[] { "a a a b b c", "d" };
        WordVocabulary.Build(texts, minFrequency: 2).Tokens.Should().Equal("[PAD]", "[UNK]", "[CLS]", "a", "b");
        WordVocabulary.Build(texts, maxSize: 4).Tokens.Should().Equal("[PAD]", "[UNK]", "[CLS]", "a");
    }

    [Fact]
    public void Encode_maps_unknown_words_to_UNK_prepends_CLS_and_truncates()
    {
        var v = WordVocabulary.Build(["the movie is good", "the plot"]);
        int the = v.IdOf("the"), movie = v.IdOf("movie"), good = v.IdOf("good");
        v.Encode("The movie is TERRIBLE good", 10, addCls: true).Should().Equal(2, the, movie, v.IdOf("is"), 1, good);
        v.Encode("The movie is TERRIBLE good", 10, addCls: false).Should().Equal(the, movie, v.IdOf("is"), 1, good);
        v.Encode("The movie is good", 3, addCls: true).Should().Equal(2, the, movie);
        v.Encode("", 5, addCls: true).Should().Equal(2);
        v.Encode("[PAD] [CLS]", 10, addCls: false).Should().NotContain([0, 2], "special tokens cannot be injected through text");
    }

    [Fact]
    public void Save_then_load_round_trips_every_id()
    {
        using var dir = new TempDirectory();
        var v = WordVocabulary.Build(["naïve café n't ``x'' -- ...", "a b c a"]);
        var path = Path.Combine(dir.Path, "vocab.txt");
        v.Save(path);
        var loaded = WordVocabulary.Load(path);
        loaded.Tokens.Should().Equal(v.Tokens);
        loaded.Encode("café a zzz", 8, true).Should().Equal(v.Encode("café a zzz", 8, true));
    }

    [Theory]
    [InlineData("not a vocabulary\ncount 3\n[PAD]\n[UNK]\n[CLS]\n", 1)]
    [InlineData("incrt-word-vocabulary v1\ncount x\n[PAD]\n[UNK]\n[CLS]\n", 2)]
    [InlineData("incrt-word-vocabulary v1\ncount 5\n[PAD]\n[UNK]\n[CLS]\na\n", 0)]
    [InlineData("incrt-word-vocabulary v1\ncount 4\n[PAD]\n[CLS]\n[UNK]\na\n", 4)]
    [InlineData("incrt-word-vocabulary v1\ncount 5\n[PAD]\n[UNK]\n[CLS]\na\na\n", 7)]
    [InlineData("incrt-word-vocabulary v1\ncount 5\n[PAD]\n[UNK]\n[CLS]\na\nb c\n", 7)]
    public void Corrupt_vocabulary_file_throws_a_clear_format_error(string content, int line)
    {
        using var dir = new TempDirectory();
        var path = dir.File("vocab.txt", content);
        var act = () => WordVocabulary.Load(path);
        var e = act.Should().Throw<DatasetFormatException>().Which;
        e.LineNumber.Should().Be(line);
        e.Message.Should().Contain(path);
    }

    [Fact]
    public void Sst2_train_vocabulary_covers_dev_well()
    {
        var folder = DataPaths.Resolve();
        var train = LabeledTextTsv.Read(DataPaths.Sst2File(folder, "train"));
        var dev = LabeledTextTsv.Read(DataPaths.Sst2File(folder, "dev"));
        var v = WordVocabulary.Build(train.Select(r => r.Text), minFrequency: 1);
        var ids = dev.SelectMany(r => v.Encode(r.Text, 128, addCls: false)).ToArray();
        double unk = ids.Count(i => i == WordVocabulary.UnknownId) / (double)ids.Length;
        v.Count.Should().BeInRange(13_000, 16_000);
        // Measured: 14,746 types, 17,084 dev tokens, 5.7% unknown (plain whitespace split gives 5.7% too:
        // dev sentences contain words that no train phrase has).
        unk.Should().BeInRange(0.01, 0.07, $"vocabulary {v.Count}, dev tokens {ids.Length}");
    }
}
