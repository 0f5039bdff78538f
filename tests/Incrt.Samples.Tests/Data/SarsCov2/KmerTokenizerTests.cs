using FluentAssertions;
using Incrt.Tasks.Data.SarsCov2;
using Xunit;

namespace Incrt.Tests.Data.SarsCov2;

public class KmerTokenizerTests
{
    [Fact]
    public void K1_vocabulary_is_the_special_tokens_then_the_residues_seen_in_training()
    {
        var tok = KmerTokenizer.Fit(["MFVX", "FVA"], k: 1);

        tok.Vocabulary.Should().Equal("[PAD]", "[UNK]", "[CLS]", "A", "F", "M", "V");
        tok.Encode("MAXW", maxLength: 7).Should().Equal(2, 5, 3, 1, 1, 0, 0);
    }

    [Fact]
    public void K3_stride1_gives_overlapping_kmers_and_stride3_non_overlapping_ones()
    {
        KmerTokenizer.Fit(["MFVFLV"], 3, 1).Split("MFVFLV").Should().Equal("MFV", "FVF", "VFL", "FLV");
        KmerTokenizer.Fit(["MFVFLVL"], 3, 3).Split("MFVFLVL").Should().Equal("MFV", "FLV");
        KmerTokenizer.Fit(["MFVFLV"], 3, 2).KmerCount(1273).Should().Be(636);
    }

    [Fact]
    public void Kmers_containing_X_or_unseen_in_training_map_to_UNK_and_are_not_in_the_vocabulary()
    {
        var tok = KmerTokenizer.Fit(["MFVXLV"], 3, 1);

        tok.Vocabulary.Should().Equal("[PAD]", "[UNK]", "[CLS]", "MFV");
        tok.Encode("MFVXLVWW", 8).Should().Equal(KmerTokenizer.ClsId, tok.TokenToId("MFV"), 1, 1, 1, 1, 1, KmerTokenizer.PadId);
    }

    [Fact]
    public void Encoding_truncates_to_max_length_and_can_omit_CLS()
    {
        var tok = KmerTokenizer.Fit(["ACDEFG"], 1);

        tok.Encode("ACDEFG", 3).Should().Equal(2, tok.TokenToId("A"), tok.TokenToId("C"));
        tok.Encode("ACDEFG", 3, addCls: false).Should().Equal(tok.TokenToId("A"), tok.TokenToId("C"), tok.TokenToId("D"));
    }

    [Fact]
    public void Saved_vocabulary_loads_back_with_the_same_k_stride_and_encoding()
    {
        var train = new SarsCov2TaskBuilder(SarsCov2Data.Catalog).Build("voc5", 10, seed: 1).Train.Select(r => r.Sequence).ToList();
        var tok = KmerTokenizer.Fit(train, 3, 2);
        var writer = new StringWriter();
        tok.Save(writer);

        var loaded = KmerTokenizer.Load(new StringReader(writer.ToString()));

        loaded.K.Should().Be(3);
        loaded.Stride.Should().Be(2);
        loaded.Vocabulary.Should().Equal(tok.Vocabulary);
        tok.VocabularySize.Should().BeInRange(1000, 8003);
        loaded.Encode(train[0], 700).Should().Equal(tok.Encode(train[0], 700));
    }

    [Theory]
    [InlineData("#incrt-kmer-vocabulary k=3\n[PAD]\n[UNK]\n[CLS]\n", "line 1")]
    [InlineData("#incrt-kmer-vocabulary k=3 stride=1\n[UNK]\n[PAD]\n[CLS]\n", "Token id 0")]
    [InlineData("#incrt-kmer-vocabulary k=3 stride=1\n[PAD]\n[UNK]\n[CLS]\nAC\n", "Token id 3 'AC'")]
    [InlineData("#incrt-kmer-vocabulary k=1 stride=1\n[PAD]\n[UNK]\n[CLS]\nA\nA\n", "Duplicate")]
    public void Malformed_vocabulary_files_are_rejected(string text, string problem)
    {
        var act = () => KmerTokenizer.Load(new StringReader(text));

        act.Should().Throw<InvalidDataException>().WithMessage($"*{problem}*");
    }
}
