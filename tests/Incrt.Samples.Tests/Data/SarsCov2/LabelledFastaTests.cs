using FluentAssertions;
using Incrt.Tasks.Data.SarsCov2;
using Xunit;

namespace Incrt.Tests.Data.SarsCov2;

public class LabelledFastaTests
{
    private const string Fasta = ">QHD43416.1 surface glycoprotein [Severe acute respiratory syndrome coronavirus 2]\nMFVF\nLV*\n>UFO69279.1 surface glycoprotein\nMFVX\n";

    [Fact]
    public void NCBI_Virus_csv_export_is_joined_on_Accession_and_Pangolin()
    {
        const string csv = "Accession,GenBank_Title,Pangolin,Geo_Location\n" +
                           "QHD43416.1,\"surface glycoprotein, partial\",B,China\n" +
                           "UFO69279.1,\"spike\",BA.1,USA\n" +
                           "ZZZ00001.1,\"unused\",XBB,USA\n";

        var records = LabelledFasta.Read(new StringReader(Fasta), new StringReader(csv));

        records.Should().Equal(new SpikeRecord("QHD43416.1", "B", "MFVFLV"), new SpikeRecord("UFO69279.1", "BA.1", "MFVX"));
    }

    [Fact]
    public void Tsv_with_unversioned_accessions_and_a_label_column_matches_versioned_fasta_ids()
    {
        const string tsv = "Protein Accession\tWHO label\tlabel\nQHD43416\tnone\tWuhan\nUFO69279\tOmicron\tOmicron\n";

        var records = LabelledFasta.Read(new StringReader(Fasta), new StringReader(tsv));

        records.Select(r => r.Label).Should().Equal("Wuhan", "Omicron");
    }

    [Fact]
    public void A_fasta_record_without_a_label_names_the_record_and_its_line()
    {
        const string tsv = "id\tlabel\nQHD43416.1\tB\n";

        var act = () => LabelledFasta.Read(new StringReader(Fasta), new StringReader(tsv));

        act.Should().Throw<InvalidDataException>().WithMessage("*record 'UFO69279.1' (line 4) has no label*");
    }

    [Fact]
    public void A_table_without_a_recognised_id_or_label_column_is_rejected_listing_the_accepted_headers()
    {
        var noLabel = () => LabelledFasta.Read(new StringReader(Fasta), new StringReader("Accession\tHost\nQHD43416.1\tHuman\n"));
        var noId = () => LabelledFasta.Read(new StringReader(Fasta), new StringReader("Thing\tPangolin\nQHD43416.1\tB\n"));

        noLabel.Should().Throw<InvalidDataException>().WithMessage("*no label column*pangolin*");
        noId.Should().Throw<InvalidDataException>().WithMessage("*no id column*accession*");
    }

    [Fact]
    public void Conflicting_labels_for_one_id_are_rejected()
    {
        var act = () => LabelledFasta.Read(new StringReader(Fasta), new StringReader("id\tlabel\na\tX\na\tY\n"));

        act.Should().Throw<InvalidDataException>().WithMessage("*line 3*'a'*'Y'*line 2*'X'*");
    }
}
