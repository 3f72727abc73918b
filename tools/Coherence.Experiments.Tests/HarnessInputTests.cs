namespace Coherence.Experiments.Tests;

[TestClass]
public sealed class HarnessInputTests
{
    [TestMethod]
    public void TsvReaderReturnsLabelAndTextAndSkipsBlankLines()
    {
        var rows = LabeledTsv.Parse(new StringReader("spam\tbuy now\n\nham\thello\tthere\n"), "t.tsv");
        Assert.HasCount(2, rows);
        Assert.AreEqual(new LabeledRow("spam", "buy now"), rows[0]);
        Assert.AreEqual(new LabeledRow("ham", "hello\tthere"), rows[1]);
    }

    [TestMethod]
    [DataRow("ham\tok\nno tab here\n", 2)]
    [DataRow("ham\tok\nham\tok\n\tmissing label\n", 3)]
    [DataRow("ham\t   \n", 1)]
    public void TsvReaderNamesTheBadLine(string text, int line)
    {
        var e = Assert.ThrowsExactly<InputException>(() => LabeledTsv.Parse(new StringReader(text), "TRAIN.tsv"));
        Assert.AreEqual($"TRAIN.tsv line {line}: expected 'label<TAB>text'.", e.Message);
    }

    [TestMethod]
    public void TsvReaderRejectsAnEmptyFile()
    {
        var e = Assert.ThrowsExactly<InputException>(() => LabeledTsv.Parse(new StringReader("\n  \n"), "TEST.tsv"));
        Assert.AreEqual("TEST.tsv: the file is empty (expected lines of 'label<TAB>text').", e.Message);
    }

    [TestMethod]
    public void TsvReaderRejectsAMissingFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"no-such-{Guid.NewGuid():N}.tsv");
        var e = Assert.ThrowsExactly<InputException>(() => LabeledTsv.Read(path, "missing.tsv"));
        Assert.StartsWith("missing.tsv: file not found", e.Message);
    }

    [TestMethod]
    public void SingleClassIsRejected()
    {
        var rows = LabeledTsv.Parse(new StringReader("ham\ta\nham\tb\n"), "t.tsv");
        var e = Assert.ThrowsExactly<InputException>(() => LabeledTsv.RequireTwoClasses(rows, "TRAIN.tsv"));
        Assert.AreEqual("TRAIN.tsv: every row has the label 'ham'; classification needs at least two classes.", e.Message);
        LabeledTsv.RequireTwoClasses([.. rows, new LabeledRow("spam", "c")], "TRAIN.tsv");
    }

    [TestMethod]
    public void PairsReaderParsesScoresAndNamesTheBadLine()
    {
        var pairs = WordPairs.Parse(new StringReader("cat\tdog\t0.75\n"), "p.tsv");
        Assert.AreEqual("cat", pairs[0].First);
        Assert.AreEqual("dog", pairs[0].Second);
        Assert.AreEqual(0.75, pairs[0].Score);
        var e = Assert.ThrowsExactly<InputException>(() => WordPairs.Parse(new StringReader("cat\tdog\t1\ncat\tdog\thigh\n"), "PAIRS.tsv"));
        Assert.AreEqual("PAIRS.tsv line 2: expected 'word1<TAB>word2<TAB>score'.", e.Message);
    }

    [TestMethod]
    public void OptionsParseModelSettingsAndRejectBadUsage()
    {
        var o = ExperimentOptions.Parse(["--train", "a.tsv", "--test", "b.tsv", "--dim", "32", "--steps", "7", "--coherence-weight", "0.5", "--seeds", "2"])!;
        Assert.AreEqual(32, o.Model.EmbeddingDimension);
        Assert.AreEqual(7, o.Model.Steps);
        Assert.AreEqual(0.5f, o.Model.CoherenceWeight);
        Assert.AreEqual(2, o.Seeds);
        Assert.IsNull(ExperimentOptions.Parse(["--help"]));
        Assert.AreEqual("--train and --test are required.", Assert.ThrowsExactly<InputException>(() => ExperimentOptions.Parse(["--train", "a.tsv"])).Message);
        Assert.AreEqual("unknown option --bogus (see --help for the valid options).", Assert.ThrowsExactly<InputException>(() => ExperimentOptions.Parse(["--bogus", "1"])).Message);
        Assert.AreEqual("option --dim: 'x' is not an integer >= 1.", Assert.ThrowsExactly<InputException>(() => ExperimentOptions.Parse(["--dim", "x"])).Message);
        Assert.AreEqual(2, InputException.ExitCode);
    }

    [TestMethod]
    public void BaselineDiffersFromScaOnlyInTheTwoWeights()
    {
        var given = ExperimentOptions.Parse(["--train", "a", "--test", "b", "--coherence-weight", "2", "--uniformity-weight", "0.3"])!.Model;
        var baseline = ExperimentRunner.OptionsFor("baseline", given, 5);
        var sca = ExperimentRunner.OptionsFor("sca", given, 5);
        Assert.AreEqual(0f, baseline.CoherenceWeight);
        Assert.AreEqual(0f, baseline.UniformityWeight);
        Assert.AreEqual(2f, sca.CoherenceWeight);
        Assert.AreEqual(0.3f, sca.UniformityWeight);
        Assert.AreEqual(5, baseline.Seed);
        Assert.AreEqual(sca.Steps, baseline.Steps);
        Assert.AreEqual(sca.EmbeddingDimension, baseline.EmbeddingDimension);
        Assert.AreEqual(2f, given.CoherenceWeight, "the given options are not modified");
    }
}
