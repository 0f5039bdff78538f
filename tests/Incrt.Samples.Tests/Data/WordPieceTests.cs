using FluentAssertions;
using Incrt.Tasks.Data;
using Xunit;

namespace Incrt.Tests.Data;

/// <summary>Word pieces of <see cref="WordVocabulary"/>: rare and unseen words split into shared pieces instead of [UNK].</summary>
public class WordPieceTests
{
    // Three words share "play" at the start and "##ing"/"##ed" at the end; "playful" is rare (once).
    private static readonly string[] Texts =
    [
        "playing played plays", "playing played plays", "jumping jumped jumps", "jumping jumped jumps",
        "walking walked walks", "walking walked walks", "playful",
    ];

    private static string[] Pieces(WordVocabulary v, string word) => v.IdsOf(word).Select(v.TokenOf).ToArray();

    [Fact]
    public void Unseen_word_is_split_greedily_into_a_word_start_piece_and_continuation_pieces()
    {
        var v = WordVocabulary.Build(Texts, minFrequency: 2, pieceMinTypes: 3);
        v.HasPieces.Should().BeTrue();
        Pieces(v, "playing").Should().Equal("playing");            // a known word keeps its own id
        Pieces(v, "walkly").Should().Equal("walk", "##l", "##y");  // "walk" starts 3 words; "##ly" is in none
        Pieces(v, "walkings").Should().Equal("walking", "##s");    // longest match first: the whole word "walking"
        Pieces(v, "jumped").Should().Equal("jumped");
        Pieces(v, "pling").Should().Equal("pl", "##ing");          // "pl" starts 4 words, "##ing" ends 3
    }

    [Fact]
    public void Rare_training_words_are_split_too_so_the_pieces_are_trained()
    {
        var v = WordVocabulary.Build(Texts, minFrequency: 2, pieceMinTypes: 3);
        v.Contains("playful").Should().BeFalse("it occurs once, below the minimum frequency");
        Pieces(v, "playful").Should().Equal("play", "##f", "##u", "##l");
    }

    [Fact]
    public void A_word_with_a_character_never_seen_in_training_is_unknown()
    {
        var v = WordVocabulary.Build(Texts, minFrequency: 2, pieceMinTypes: 3);
        v.IdsOf("playz").Should().Equal(WordVocabulary.UnknownId);
        v.Encode("walks zzz", 10, addCls: true).Should().Equal(WordVocabulary.ClsId, v.IdOf("walks"), WordVocabulary.UnknownId);
    }

    [Fact]
    public void Without_pieces_unknown_words_stay_UNK_and_encoding_is_one_id_per_word()
    {
        var v = WordVocabulary.Build(Texts, minFrequency: 2);
        v.HasPieces.Should().BeFalse();
        v.Encode("walkly playing", 10, addCls: false).Should().Equal(WordVocabulary.UnknownId, v.IdOf("playing"));
    }

    [Fact]
    public void Encoding_with_pieces_truncates_at_max_length_inside_a_split_word()
    {
        var v = WordVocabulary.Build(Texts, minFrequency: 2, pieceMinTypes: 3);
        var ids = v.Encode("walks walkly", 3, addCls: true);
        ids.Select(v.TokenOf).Should().Equal("[CLS]", "walks", "walk");
    }

    [Fact]
    public void Pieces_survive_save_and_load_and_encode_identically()
    {
        using var dir = new TempDirectory();
        var v = WordVocabulary.Build(Texts, minFrequency: 2, pieceMinTypes: 3);
        var path = System.IO.Path.Combine(dir.Path, "vocab.txt");
        v.Save(path);
        var loaded = WordVocabulary.Load(path);
        loaded.HasPieces.Should().BeTrue();
        loaded.Encode("walkly playful jumps", 20, addCls: true).Should().Equal(v.Encode("walkly playful jumps", 20, addCls: true));
    }

    [Fact]
    public void Coverage_counts_words_without_an_id_and_those_that_still_map_to_UNK()
    {
        var v = WordVocabulary.Build(Texts, minFrequency: 2, pieceMinTypes: 3);
        v.Coverage(["walks walkly zzz"]).Should().Be((3L, 2L, 1L));
    }

    [Fact]
    public void A_punctuation_token_of_hashes_is_not_mistaken_for_a_piece()
    {
        var v = WordVocabulary.Build(["## ### ## good", "## good"], minFrequency: 1);
        v.HasPieces.Should().BeFalse();
    }
}
