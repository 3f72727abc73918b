namespace Coherence.Experiments.Tests;

/// <summary>The real fastText tool on tiny inputs (under a second); inconclusive where it is not installed.</summary>
[TestClass]
public sealed class FastTextToolTests
{
    private static FastTextTool Tool() =>
        FastTextExecutable.Find() is { } path ? new FastTextTool(path, threads: 1) : throw new AssertInconclusiveException("fasttext is not on PATH (apt-get install fasttext).");

    [TestMethod]
    public void SkipgramWritesVectorsTheHarnessReadsAndDeletesTheBinaryModel()
    {
        var tool = Tool();
        var directory = Directory.CreateTempSubdirectory("ft-skipgram-").FullName;
        try
        {
            var text = Path.Combine(directory, "text.txt");
            FastTextFiles.WriteText(text, Enumerable.Repeat(new[] { "buy", "cheap", "pills", "now" }, 10));
            var vecPath = tool.Skipgram(text, Path.Combine(directory, "sg"), dimension: 5, seed: 1);
            Assert.IsFalse(File.Exists(Path.Combine(directory, "sg.bin")));
            var vec = VecFile.Read(vecPath);
            Assert.AreEqual(5, vec.Dimension);
            // Every word (seen 10 times, over the min count 5) plus fastText's end-of-line token.
            CollectionAssert.AreEquivalent(new[] { "buy", "cheap", "pills", "now", "</s>" }, vec.Words.ToArray());
        }
        finally
        {
            Directory.Delete(directory, true);
        }
    }

    [TestMethod]
    public void SupervisedThenPredictGivesOneLabelPerTestLine()
    {
        var tool = Tool();
        var directory = Directory.CreateTempSubdirectory("ft-supervised-").FullName;
        try
        {
            var train = Path.Combine(directory, "train.txt");
            var test = Path.Combine(directory, "test.txt");
            FastTextFiles.WriteLabelled(train, Enumerable.Range(0, 40).Select(i => i % 2 == 0 ? (1, new[] { "buy", "cheap", "pills" }) : (0, new[] { "meeting", "at", "noon" })));
            FastTextFiles.WriteText(test, [["cheap", "pills"], ["meeting", "noon"], []]);
            // 25 epochs but no word bigrams: -wordNgrams 2 adds 2M hash buckets, an 800 MB model file to write.
            var model = tool.Supervised(train, Path.Combine(directory, "clf"), seed: 1, ["-epoch", "25"]);
            var predicted = FastTextFiles.ParsePredictions(tool.Predict(model, test), expected: 3, labelCount: 2);
            Assert.AreEqual(1, predicted[0]);
            Assert.AreEqual(0, predicted[1]);
            Assert.IsTrue(predicted[2] is 0 or 1, "an empty line still gets a label");
        }
        finally
        {
            Directory.Delete(directory, true);
        }
    }
}
