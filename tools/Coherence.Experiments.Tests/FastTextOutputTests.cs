namespace Coherence.Experiments.Tests;

[TestClass]
public sealed class FastTextOutputTests
{
    [TestMethod]
    public void PredictionsAreParsedIntoLabelIndices()
    {
        CollectionAssert.AreEqual(new[] { 2, 0, 11 }, FastTextFiles.ParsePredictions("__label__2\n__label__0\n__label__11\n", 3, 12));
        CollectionAssert.AreEqual(new[] { 1 }, FastTextFiles.ParsePredictions("__label__1", 1, 2), "no trailing newline");
    }

    [TestMethod]
    public void PredictionsWithTheWrongCountOrAnUnknownLabelFail()
    {
        Assert.AreEqual("fasttext predict printed 2 lines for 3 test rows.",
            Assert.ThrowsExactly<InvalidOperationException>(() => FastTextFiles.ParsePredictions("__label__0\n__label__1\n", 3, 2)).Message);
        Assert.AreEqual("fasttext predict line 2: expected '__label__<index below 2>', got '__label__5'.",
            Assert.ThrowsExactly<InvalidOperationException>(() => FastTextFiles.ParsePredictions("__label__0\n__label__5\n", 2, 2)).Message);
        Assert.AreEqual("fasttext predict line 1: expected '__label__<index below 2>', got 'spam'.",
            Assert.ThrowsExactly<InvalidOperationException>(() => FastTextFiles.ParsePredictions("spam\n", 1, 2)).Message);
    }

    [TestMethod]
    public void ConfusionGivesAccuracyAndTheHarnessMacroF1()
    {
        int[] actual = [0, 0, 0, 1, 1, 2];
        int[] predicted = [0, 0, 1, 1, 2, 2];
        var counts = Confusion.Counts(actual, predicted, 3);
        Assert.AreEqual(4.0 / 6, Confusion.Accuracy(counts), 1e-12);
        // F1: class 0 = 4/5, class 1 = 2/4, class 2 = 2/3.
        Assert.AreEqual((0.8 + 0.5 + (2.0 / 3)) / 3, MacroF1.Compute(counts), 1e-12);
    }

    [TestMethod]
    public void TrainingFilesHoldTheTokensAndIndexedLabels()
    {
        var directory = Directory.CreateTempSubdirectory("ft-files-").FullName;
        try
        {
            var text = Path.Combine(directory, "text.txt");
            FastTextFiles.WriteText(text, [["hello", "world!"], [], ["a"]]);
            Assert.AreEqual("hello world!\n\na\n", File.ReadAllText(text));
            var labelled = Path.Combine(directory, "labelled.txt");
            FastTextFiles.WriteLabelled(labelled, [(1, ["buy", "now"]), (0, [])]);
            Assert.AreEqual("__label__1 buy now\n__label__0\n", File.ReadAllText(labelled));
        }
        finally
        {
            Directory.Delete(directory, true);
        }
    }

    [TestMethod]
    public void VecFileIsReadWithItsHeaderAndAZeroUnknownRow()
    {
        var vec = VecFile.Parse(new StringReader("3 2\nhello 1 2 \nworld 3 -4.5\n</s> 0.25 1e-1\n"), "v.vec");
        Assert.AreEqual(2, vec.Dimension);
        CollectionAssert.AreEqual(new[] { "hello", "world", "</s>" }, vec.Words.ToArray());
        Assert.AreEqual(4, vec.Matrix.Rows);
        CollectionAssert.AreEqual(new[] { 0f, 0f }, vec.Matrix.Row(0).ToArray());
        Assert.AreEqual(2, vec.Lookup("world"));
        CollectionAssert.AreEqual(new[] { 3f, -4.5f }, vec.Vector("world").ToArray());
        CollectionAssert.AreEqual(new[] { 0.25f, 0.1f }, vec.Vector("</s>").ToArray());
        Assert.IsNull(vec.Lookup("absent"));
        Assert.AreEqual(0, vec.Vector("absent").Length);
    }

    [TestMethod]
    public void VecFileWithoutHeaderTakesTheDimensionFromTheFirstLineAndNamesBadLines()
    {
        var vec = VecFile.Parse(new StringReader("a 1 2 3\nb 4 5 6\n"), "v.vec");
        Assert.AreEqual(3, vec.Dimension);
        CollectionAssert.AreEqual(new[] { 4f, 5f, 6f }, vec.Vector("b").ToArray());
        Assert.AreEqual("v.vec line 3: expected a word and 2 numbers separated by spaces, found 1 numbers.",
            Assert.ThrowsExactly<InputException>(() => VecFile.Parse(new StringReader("2 2\na 1 2\nb 3\n"), "v.vec")).Message);
        Assert.AreEqual("v.vec line 2: 'x' is not a finite number.",
            Assert.ThrowsExactly<InputException>(() => VecFile.Parse(new StringReader("2 2\na 1 x\n"), "v.vec")).Message);
        Assert.AreEqual("v.vec: no word vectors (expected lines of 'word v1 v2 ...').",
            Assert.ThrowsExactly<InputException>(() => VecFile.Parse(new StringReader("0 2\n"), "v.vec")).Message);
    }

    [TestMethod]
    public void FastTextIsFoundOnlyAsAnExecutableOnThePath()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // Unix file modes only
        }

        var directory = Directory.CreateTempSubdirectory("ft-path-").FullName;
        try
        {
            var tool = Path.Combine(directory, "fasttext");
            File.WriteAllText(tool, "#!/bin/sh\n");
            Assert.IsNull(FastTextExecutable.Find(directory), "not executable");
            File.SetUnixFileMode(tool, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            Assert.AreEqual(tool, FastTextExecutable.Find($"/no/such/dir{Path.PathSeparator}{directory}"));
            Assert.IsNull(FastTextExecutable.Find("/no/such/dir"));
        }
        finally
        {
            Directory.Delete(directory, true);
        }
    }
}
