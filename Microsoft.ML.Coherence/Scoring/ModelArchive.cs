using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML.Coherence.Internal;
using Microsoft.ML.Coherence.Modules;
using Microsoft.ML.Coherence.Statistics;
using Microsoft.ML.Coherence.Text;

namespace Microsoft.ML.Coherence.Scoring;

/// <summary>
/// A <see cref="CoherenceEmbeddingModel"/> as one zip file: the vocabulary, the statistical field and the encoder weights
/// in their binary formats, the report as JSON (the teacher, an object of the application's, is left out), and a format
/// line. Zip's CRC-32 of each entry catches damage; every part is also checked as it is read and against the others, so
/// a damaged or foreign file fails with <see cref="InvalidDataException"/> naming it. Written atomically.
/// </summary>
internal static class ModelArchive
{
    private const string Format = "Microsoft.ML.Coherence model 1";
    private const string FormatEntry = "format.txt", VocabularyEntry = "vocabulary.bin", FieldEntry = "field.bin",
        WeightsEntry = "weights.bin", ReportEntry = "report.json";

    private static readonly JsonSerializerOptions ReportJson = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals, // NaN losses of unread steps
        Converters = { new JsonStringEnumConverter() },
    };

    public static void Write(string path, CoherenceEmbeddingModel model) => AtomicFile.Write(path, stream =>
    {
        using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
        WriteEntry(zip, FormatEntry, s => s.Write(System.Text.Encoding.UTF8.GetBytes(Format)));
        WriteEntry(zip, VocabularyEntry, model.Vocabulary.Save);
        WriteEntry(zip, FieldEntry, model.Field.Save);
        WriteEntry(zip, WeightsEntry, s =>
        {
            using var writer = new BinaryWriter(s, System.Text.Encoding.UTF8, leaveOpen: true);
            EncoderWeightsFormat.Write(writer, model.Weights);
        });
        WriteEntry(zip, ReportEntry, s => JsonSerializer.Serialize(s, model.Report, ReportJson));
    });

    public static CoherenceEmbeddingModel Read(string path)
    {
        try
        {
            using var zip = ZipFile.OpenRead(path);
            string format = System.Text.Encoding.UTF8.GetString(ReadEntry(zip, FormatEntry));
            if (format != Format)
                throw new InvalidDataException($"it holds '{format}', not '{Format}'");
            var vocabulary = Vocabulary.Load(new MemoryStream(ReadEntry(zip, VocabularyEntry)));
            var field = StatisticalField.Load(new MemoryStream(ReadEntry(zip, FieldEntry)));
            using var weightsReader = new BinaryReader(new MemoryStream(ReadEntry(zip, WeightsEntry)));
            var weights = EncoderWeightsFormat.Read(weightsReader);
            var report = JsonSerializer.Deserialize<CoherenceTrainingReport>(ReadEntry(zip, ReportEntry), ReportJson)
                ?? throw new InvalidDataException("its report is empty");
            if (field.VocabularySize != vocabulary.Count || weights.VocabularySize != vocabulary.Count || report.VocabularySize != vocabulary.Count)
                throw new InvalidDataException($"its parts disagree on the vocabulary size (vocabulary {vocabulary.Count}, field {field.VocabularySize}, " +
                    $"weights {weights.VocabularySize}, report {report.VocabularySize})");
            return new CoherenceEmbeddingModel(vocabulary, field, weights, report);
        }
        catch (Exception e) when (e is InvalidDataException or JsonException or EndOfStreamException or NotSupportedException)
        {
            throw new InvalidDataException($"'{path}' is not a coherence model this version can read: {e.Message}", e);
        }
    }

    private static void WriteEntry(ZipArchive zip, string name, Action<Stream> write)
    {
        using var entry = zip.CreateEntry(name, CompressionLevel.Fastest).Open();
        write(entry);
    }

    // Read whole, so that the entry's CRC-32 is checked; a missing entry names itself.
    private static byte[] ReadEntry(ZipArchive zip, string name)
    {
        var entry = zip.GetEntry(name) ?? throw new InvalidDataException($"it has no '{name}'");
        if (entry.Length > int.MaxValue)
            throw new InvalidDataException($"its '{name}' declares {entry.Length} bytes");
        using var stream = entry.Open();
        using var bytes = new MemoryStream();
        stream.CopyTo(bytes);
        return bytes.ToArray();
    }
}
