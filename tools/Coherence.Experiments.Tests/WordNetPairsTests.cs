using Microsoft.ML.Coherence.Evaluation;

namespace Coherence.Experiments.Tests;

[TestClass]
public sealed class WordNetPairsTests
{
    // A fake data file in WordNet 3.0's format: a licence header (two leading spaces), then synsets
    // "offset lex_filenum ss_type w_cnt(hex) word lex_id ... p_cnt ... | gloss".
    private const string FakeData = """
          1 This software and database is being provided to you, the LICENSEE, by
          2 Princeton University under the following license.
        00001740 03 n 03 Car 0 auto 0 motor_car 0 000 | a motor vehicle
        00001741 05 n 02 dog 0 domestic_dog 0 000 | a domesticated canid
        00001742 05 n 02 hound 0 dog 1 001 @ 00001741 n 0000 | a hunting dog
        00001743 00 a 02 big(a) 0 large 0 000 | above average in size
        00001744 03 n 02 i 0 one 0 000 | the smallest whole number
        00001745 03 n 02 cat 0 true_cat 0 000 | a feline
        """;

    private static readonly Dictionary<string, long> Counts = new()
    {
        ["car"] = 30, ["auto"] = 8, ["dog"] = 150, ["hound"] = 6, ["big"] = 25, ["large"] = 120,
        ["cat"] = 12, ["one"] = 500, ["i"] = 900, ["moon"] = 7, ["sun"] = 40, ["tree"] = 300,
    };

    [TestMethod]
    public void SynsetsKeepSingleWordLowerCaseLemmas()
    {
        var synsets = WordNetSynonymPairs.ParseSynsets(new StringReader(FakeData), "data.noun");
        Assert.HasCount(6, synsets);
        CollectionAssert.AreEqual(new[] { "car", "auto" }, synsets[0]);       // lower-cased, motor_car dropped
        CollectionAssert.AreEqual(new[] { "dog" }, synsets[1]);
        CollectionAssert.AreEqual(new[] { "big", "large" }, synsets[3]);     // adjective marker "(a)" removed
        CollectionAssert.AreEqual(new[] { "one" }, synsets[4]);              // one-character "i" dropped
        Assert.AreEqual("data.noun line 3: expected 'offset lex_filenum ss_type w_cnt word lex_id ...'.",
            Assert.ThrowsExactly<InputException>(() => WordNetSynonymPairs.ParseSynsets(new StringReader("  header\n\n00001740 03 n zz car 0 | x\n"), "data.noun")).Message);
    }

    [TestMethod]
    public void PairsAreSynonymsFollowedBySameBandRandomPairs()
    {
        var synsets = WordNetSynonymPairs.ParseSynsets(new StringReader(FakeData), "data.noun");
        // Words that are in WordNet but no synonym pair still serve as negatives: add them as one-word synsets.
        var all = synsets.Concat([["moon"], ["sun"], ["tree"]]).ToList();
        var pairs = WordNetSynonymPairs.Build(all, Counts, seed: 3);

        var positives = pairs.Where(p => p.Score == 1).Select(p => (p.First, p.Second)).ToArray();
        // Rarer word first; sorted; "dog"/"hound" share a synset; "cat" has no single-word synonym.
        CollectionAssert.AreEqual(new[] { ("auto", "car"), ("big", "large"), ("hound", "dog") }, positives);
        Assert.HasCount(6, pairs);
        for (var i = 0; i < pairs.Count; i += 2)
        {
            var positive = pairs[i];
            var negative = pairs[i + 1];
            Assert.AreEqual(1.0, positive.Score);
            Assert.AreEqual(0.0, negative.Score);
            Assert.AreEqual(positive.First, negative.First, "the negative repeats the rarer word");
            Assert.AreEqual(FrequencyBand.Of(Counts[positive.Second]), FrequencyBand.Of(Counts[negative.Second]), "and draws the other from the same band");
            Assert.AreNotEqual(positive.Second, negative.Second);
            Assert.AreEqual(BandedPairs.BandOf(positive, Counts), BandedPairs.BandOf(negative, Counts));
        }

        // auto/car: "car" (30) is in band 20-99, where the other candidates are big (25) and sun (40).
        CollectionAssert.Contains(new[] { "big", "sun" }, pairs[1].Second);
        // hound/dog: "dog" (150) is in band 100+: large, one, tree.
        CollectionAssert.Contains(new[] { "large", "one", "tree" }, pairs[5].Second);
        CollectionAssert.AreEqual(pairs, WordNetSynonymPairs.Build(all, Counts, seed: 3), "seeded");
    }

    [TestMethod]
    public void WordsSeenFewerThanFiveTimesAreLeftOutAndBandsAreFixed()
    {
        var counts = new Dictionary<string, long>(Counts) { ["auto"] = 4 };
        var pairs = WordNetSynonymPairs.Build([["car", "auto"], ["sun"], ["moon"]], counts, seed: 1);
        Assert.IsEmpty(pairs);
        Assert.IsNull(FrequencyBand.Of(4));
        Assert.AreEqual(0, FrequencyBand.Of(5));
        Assert.AreEqual(0, FrequencyBand.Of(19));
        Assert.AreEqual(1, FrequencyBand.Of(20));
        Assert.AreEqual(1, FrequencyBand.Of(99));
        Assert.AreEqual(2, FrequencyBand.Of(100));
    }

    [TestMethod]
    public void PairsCommandParsesItsOptionsAndNamesBadOnes()
    {
        var c = WordNetPairsCommand.Parse(["--train", "t.tsv", "--out", "p.tsv", "--seed", "7", "--keep-punctuation"])!;
        Assert.AreEqual("t.tsv", c.TrainPath);
        Assert.AreEqual("p.tsv", c.OutputPath);
        Assert.AreEqual(7, c.Seed);
        Assert.IsFalse(c.SplitPunctuation);
        Assert.AreEqual("/usr/share/wordnet", c.WordNetDirectory);
        Assert.IsTrue(WordNetPairsCommand.Parse(["--corpus", "c.txt", "--out", "p.tsv"])!.SplitPunctuation);
        Assert.IsNull(WordNetPairsCommand.Parse(["--help"]));
        string Error(params string[] args) => Assert.ThrowsExactly<InputException>(() => WordNetPairsCommand.Parse(args)).Message;
        Assert.AreEqual("wordnet-pairs: --out is required.", Error("--train", "t.tsv"));
        Assert.AreEqual("wordnet-pairs: give --train and/or --corpus: the text whose word counts define the frequency bands.", Error("--out", "p.tsv"));
        Assert.AreEqual("wordnet-pairs: option --seed: 'x' is not an integer >= 0.", Error("--out", "p.tsv", "--seed", "x"));
        Assert.AreEqual("wordnet-pairs: unknown option --min; valid: --out, --train, --corpus, --wordnet, --seed, --keep-punctuation.", Error("--min", "3"));
    }

    [TestMethod]
    public void PairsFileRoundTripsThroughTheHarnessReader()
    {
        var directory = Directory.CreateTempSubdirectory("pairs-").FullName;
        try
        {
            var path = Path.Combine(directory, "pairs.tsv");
            WordNetSynonymPairs.Write(path, [new WordSimilarityPair("auto", "car", 1), new WordSimilarityPair("auto", "sun", 0)]);
            Assert.AreEqual("auto\tcar\t1\nauto\tsun\t0\n", File.ReadAllText(path));
            var read = WordPairs.Read(path);
            Assert.AreEqual(new WordSimilarityPair("auto", "sun", 0), read[1]);
        }
        finally
        {
            Directory.Delete(directory, true);
        }
    }

    [TestMethod]
    public void BandedAucIsComputedPerBandOfTheRarerWord()
    {
        // Rows: 0 unknown, 1 a, 2 b, 3 c, 4 d. a and b point the same way; c and d are orthogonal to a.
        var matrix = new EmbeddingMatrix([0, 0, 1, 0, 1, 0.1f, 0, 1, -1, 0.2f], 2);
        var ids = new Dictionary<string, int> { ["a"] = 1, ["b"] = 2, ["c"] = 3, ["d"] = 4 };
        var counts = new Dictionary<string, long> { ["a"] = 6, ["b"] = 50, ["c"] = 60, ["d"] = 200, ["e"] = 300 };
        WordSimilarityPair[] pairs =
        [
            new("a", "b", 1), new("a", "c", 0),  // band 5-19: synonym cosine higher -> AUC 1
            new("b", "d", 1), new("c", "d", 0),  // band 20-99: b.d < c.d -> AUC 0
            new("d", "e", 1),                    // "e" has no vector: skipped
        ];
        var result = new RunResult { Variant = "x", Seed = 1 };
        BandedPairs.Put(result, pairs, counts, w => ids.TryGetValue(w, out var id) ? id : null, matrix);
        Assert.AreEqual(1.0, result["pairsAuc5to19"]);
        Assert.AreEqual(0.0, result["pairsAuc20to99"]);
        Assert.AreEqual(2.0, result["pairsFound5to19"]);
        Assert.AreEqual(0.0, result["pairsFound100plus"]);
        Assert.AreEqual(4.0, result["pairsFound"]);
        Assert.AreEqual(1.0, result["pairsSkipped"]);
        Assert.AreEqual(0.5, result["pairsAuc"]);
    }
}
