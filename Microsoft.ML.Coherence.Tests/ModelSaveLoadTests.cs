using System.IO.Compression;
using Microsoft.ML.Coherence.Tests.TestData;
using Microsoft.ML.Data;

namespace Microsoft.ML.Coherence.Tests;

/// <summary>A trained <see cref="CoherenceEmbeddingModel"/> outlives its process: Save, Load, the same model.</summary>
[TestClass]
public sealed class ModelSaveLoadTests
{
    private static readonly List<string> Corpus =
        PlantedCorpus.Generate(groups: 4, wordsPerGroup: 10, sentences: 300, sentenceLength: 10, inGroupShare: 0.9, seed: 5);

    [TestMethod]
    [DataRow(0, CoherencePooling.Mean, DisplayName = "static, mean")]
    [DataRow(1, CoherencePooling.MeanMax, DisplayName = "1 layer, mean and max")]
    public void ASavedModelLoadsAsTheSameModelAndScoresTheSame(int layers, CoherencePooling pooling) => TempFolder.Use("coherence-model", folder =>
    {
        var ml = new MLContext(seed: 1);
        var options = PlantedCorpus.TinyOptions(steps: 20);
        (options.Layers, options.Heads, options.Pooling) = (layers, 2, pooling);
        var data = Data(ml, Corpus);
        using var stage = ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", options).Fit(data);
        string path = Path.Combine(folder, "model.coherence");

        stage.Model.Save(path);
        var loaded = CoherenceEmbeddingModel.Load(path);

        CollectionAssert.AreEqual(stage.Model.GetEmbeddingMatrix(), loaded.GetEmbeddingMatrix());
        CollectionAssert.AreEqual(stage.Vocabulary.Tokens.ToArray(), loaded.Vocabulary.Tokens.ToArray());
        CollectionAssert.AreEqual(stage.Vocabulary.Frequencies.ToArray(), loaded.Vocabulary.Frequencies.ToArray());
        CollectionAssert.AreEqual(stage.Model.Field.Neighbors, loaded.Field.Neighbors);
        Assert.AreEqual(stage.Report.Options.Steps, loaded.Report.Options.Steps);
        Assert.AreEqual(pooling, loaded.Report.Options.Pooling);
        Assert.HasCount(stage.Report.History.Count, loaded.Report.History);
        Assert.AreEqual(stage.Report.FinalHeldOutPerplexity, loaded.Report.FinalHeldOutPerplexity);

        // The loaded model builds the same scoring chain: the same features, row for row.
        var fresh = new MLContext(seed: 2);
        using var rebuilt = CoherenceEmbeddingTransformer.FromModel(fresh, loaded, "Features", "Text");
        var texts = Corpus.Take(20).Append("g1w1 unknownword").Append("").ToList();
        var expected = stage.Transform(Data(ml, texts)).GetColumn<float[]>("Features").ToArray();
        var actual = rebuilt.Transform(Data(fresh, texts)).GetColumn<float[]>("Features").ToArray();
        for (int r = 0; r < texts.Count; r++)
            CollectionAssert.AreEqual(expected[r], actual[r], $"row {r}");
    });

    [TestMethod]
    [DataRow("truncated")]
    [DataRow("weights declaring 2^30 values")]
    [DataRow("report of another vocabulary size")]
    public void ADamagedOrForgedModelFileFailsNamingItBeforeAnyLargeAllocation(string damage) => TempFolder.Use("coherence-model", folder =>
    {
        var ml = new MLContext(seed: 1);
        using var stage = ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", PlantedCorpus.TinyOptions(steps: 5)).Fit(Data(ml, Corpus));
        string path = Path.Combine(folder, "model.coherence");
        stage.Model.Save(path);
        if (damage == "truncated")
        {
            byte[] bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        }
        else
        {
            using var zip = ZipFile.Open(path, ZipArchiveMode.Update);
            string entryName = damage.StartsWith("weights", StringComparison.Ordinal) ? "weights.bin" : "report.json";
            var entry = zip.GetEntry(entryName)!;
            byte[] content;
            using (var reader = entry.Open())
            using (var copy = new MemoryStream())
            {
                reader.CopyTo(copy);
                content = copy.ToArray();
            }
            if (entryName == "weights.bin")
                BitConverter.GetBytes(1 << 30).CopyTo(content, 6 * sizeof(int)); // the first array's length, after the version and 5 sizes
            else
                content = System.Text.Encoding.UTF8.GetBytes(System.Text.Encoding.UTF8.GetString(content)
                    .Replace($"\"VocabularySize\": {stage.Report.VocabularySize},", "\"VocabularySize\": 7,"));
            entry.Delete();
            using var writer = zip.CreateEntry(entryName).Open();
            writer.Write(content);
        }

        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var error = Assert.ThrowsExactly<InvalidDataException>(() => CoherenceEmbeddingModel.Load(path));
        Assert.IsLessThan(256L << 20, GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore, "nothing the file declared was allocated");
        StringAssert.StartsWith(error.Message, $"'{path}' is not a coherence model this version can read: ");
    });

    [TestMethod]
    public void SavingWritesAtomicallyAndKeepsNoTeacher() => TempFolder.Use("coherence-model", folder =>
    {
        var ml = new MLContext(seed: 1);
        var options = PlantedCorpus.TinyOptions(steps: 5);
        options.Teacher = new PlantedTeacher();
        using var stage = ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", options).Fit(Data(ml, Corpus));
        string path = Path.Combine(folder, "model.coherence");
        File.WriteAllText(path, "an earlier file");

        stage.Model.Save(path);

        Assert.IsNull(CoherenceEmbeddingModel.Load(path).Report.Options.Teacher, "the teacher is the application's object, not saved");
        Assert.AreEqual(stage.Report.TeacherName, CoherenceEmbeddingModel.Load(path).Report.TeacherName);
        CollectionAssert.AreEqual(new[] { "model.coherence" }, Directory.GetFiles(folder).Select(Path.GetFileName).ToArray(), "no temporary file left");
    });

    private static IDataView Data(MLContext ml, IEnumerable<string> texts) =>
        ml.Data.LoadFromEnumerable(texts.Select(t => new SampleData.Row { Text = t }).ToList());
}
