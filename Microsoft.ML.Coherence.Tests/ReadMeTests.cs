using Microsoft.ML.Coherence.Tests.TestData;
using Microsoft.ML.Data;

namespace Microsoft.ML.Coherence.Tests;

/// <summary>
/// The README's code lives here, where it is compiled and run; the test fails if the README's copy
/// drifts from it (as Sep's ReadMeTest does).
/// </summary>
[TestClass]
public sealed class ReadMeTests
{
    [TestMethod]
    public void ReadMeExampleRunsAndMatchesTheReadMe()
    {
        string directory = Directory.CreateTempSubdirectory("coherence-readme").FullName;
        string previous = Environment.CurrentDirectory;
        Environment.CurrentDirectory = directory;
        try
        {
            var context = new MLContext(seed: 1);
            var train = context.Data.LoadFromEnumerable(SampleData.Read("data/sample/spam/train.tsv"));
            // README-BEGIN
            var ml = new MLContext(seed: 1);
            var pipeline = ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", new CoherenceEmbeddingOptions { Steps = 300 })
                .Append(ml.Transforms.Conversion.MapValueToKey("Label"))
                .AppendCacheCheckpoint(ml)            // the trainer makes several passes: score the text once
                .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy())
                .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
            var model = pipeline.Fit(train);              // trains the embeddings, then the classifier
            ml.Model.Save(model, train.Schema, "model.zip");
            // README-END
            Assert.IsTrue(new FileInfo(Path.Combine(directory, "model.zip")).Length > 0);
            var predictions = model.Transform(train).GetColumn<string>("PredictedLabel").ToArray();
            CollectionAssert.IsSubsetOf(predictions.Distinct().ToArray(), new[] { "spam", "ham" });
        }
        finally
        {
            Environment.CurrentDirectory = previous;
            Directory.Delete(directory, true);
        }

        string source = File.ReadAllText(Path.Combine(SampleData.RepositoryRoot, "Microsoft.ML.Coherence.Tests", "ReadMeTests.cs"));
        var lines = source.Split('\n');
        int begin = Array.FindIndex(lines, l => l.Trim() == "// README-BEGIN"), end = Array.FindIndex(lines, l => l.Trim() == "// README-END");
        var block = lines[(begin + 1)..end].Select(l => l.TrimEnd('\r'));
        int indent = block.Where(l => l.Trim().Length > 0).Min(l => l.Length - l.TrimStart().Length);
        string expected = "```csharp\n" + string.Join('\n', block.Select(l => l.Length >= indent ? l[indent..] : l.Trim())) + "\n```";
        string readMe = File.ReadAllText(Path.Combine(SampleData.RepositoryRoot, "README.md")).Replace("\r\n", "\n");
        StringAssert.Contains(readMe, expected, "README.md's example must be the code of ReadMeExampleRunsAndMatchesTheReadMe");
    }
}
