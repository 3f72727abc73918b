using Microsoft.ML.Coherence.Tests.Oracle;
using Microsoft.ML.Coherence.Modules;
using Microsoft.ML.Coherence.Scoring;
using Microsoft.ML.Coherence.Tests.TestData;
using Microsoft.ML.Coherence.Text;
using Microsoft.ML.Data;
using TorchSharp;

namespace Microsoft.ML.Coherence.Tests;

/// <summary>Subword (hashed character n-gram) vectors: the hash, the composition in training, and the saved chain.</summary>
[TestClass]
public sealed class SubwordTests
{
    private const string TextColumn = "Text";
    private const string FeaturesColumn = "Features";

    private sealed class TextRow
    {
        public string Text { get; set; } = "";
    }

    private sealed class FeatureRow
    {
        [VectorType]
        public float[] Features { get; set; } = [];
    }

    [TestMethod]
    public void HashMatchesHandComputedBuckets()
    {
        // Computed by hand (Python) from the formula in CharNgramHasher's remarks: ‹ab› = [1, 97, 98, 1].
        CollectionAssert.AreEqual(new[] { 533, 596, 45 }, new CharNgramHasher(3, 4, 1000).BucketsOf("ab"));
        CollectionAssert.AreEqual(new[] { 76, 732, 735 }, new CharNgramHasher(2, 3, 1000).BucketsOf("é"));
        // ‹a› has 3 positions: no 4-grams.
        Assert.IsEmpty(new CharNgramHasher(4, 5, 1000).BucketsOf("a"));
    }

    [TestMethod]
    public void TrainingRowsAverageEachWordsRowWithItsNgramRows()
    {
        string[] tokens = ["<unk>", "ab", "abc"];
        var hasher = new CharNgramHasher(3, 4, 1024);
        using var model = new CoherenceLanguageModel(3, 4, 0, 1, 8, 2, new SubwordRows(hasher, tokens));
        using var scope = torch.NewDisposeScope();
        var rows = model.Rows([2, 0, 1]).data<float>().ToArray();
        var e = model.Embedding.data<float>().ToArray();
        var s = model.Subwords!.data<float>().ToArray();
        long[] ids = [2, 0, 1];
        for (int r = 0; r < ids.Length; r++)
        {
            var buckets = ids[r] == 0 ? [] : hasher.BucketsOf(tokens[ids[r]]);
            for (int i = 0; i < 4; i++)
            {
                double expected = e[ids[r] * 4 + i] + buckets.Sum(b => (double)s[b * 4 + i]);
                Assert.AreEqual(expected / (1 + buckets.Count), rows[r * 4 + i], 1e-6, $"row {r} column {i}");
            }
        }
    }

    private static CoherenceEncoderWeights SubwordWeights(int minLength, int maxLength, bool sif = false)
    {
        var random = new Random(11);
        var baseWeights = TestEncoders.RandomWeights(0);
        const int Buckets = 1024;
        var weights = new CoherenceEncoderWeights
        {
            VocabularySize = baseWeights.VocabularySize, Dimension = baseWeights.Dimension, Heads = 1, ContextLength = baseWeights.ContextLength,
            Embeddings = baseWeights.Embeddings,
            SubwordVectors = Enumerable.Range(0, Buckets * baseWeights.Dimension).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray(),
            SubwordMinLength = minLength, SubwordMaxLength = maxLength,
        };
        if (!sif)
            return weights;
        var tokenWeights = Enumerable.Range(0, weights.VocabularySize).Select(i => i == 0 ? 1f : 0.2f + (i % 5) / 10f).ToArray();
        var u = Enumerable.Range(0, weights.Dimension).Select(i => (float)(i % 3) - 1f).ToArray();
        float norm = MathF.Sqrt(u.Sum(x => x * x));
        return weights.WithSif(tokenWeights, u.Select(x => x / norm).ToArray());
    }

    // Words of the chain's tokenizer for these texts: lower case, split on white space (no punctuation in them).
    private static readonly string[] Texts =
    [
        "",
        "w3",
        "zzz",
        "W7 zzz w12 w12x",
        "a w1 bb qqq",
        "unknownword w49 w10 w10 ZZZ ab",
        "  w4   éclair ",
    ];

    private static float[][] ChainFeatures(CoherenceEncoderWeights weights, CoherencePooling pooling, IEnumerable<string> texts)
    {
        var ml = new MLContext(seed: 1);
        using var chain = (IDisposable)ScoringChainBuilder.Build(ml, FeaturesColumn, TextColumn, TestEncoders.Vocabulary(weights.VocabularySize), weights, pooling);
        var data = ml.Data.LoadFromEnumerable(texts.Select(t => new TextRow { Text = t }).ToArray());
        return ml.Data.CreateEnumerable<FeatureRow>(((ITransformer)chain).Transform(data), reuseRowObject: false).Select(r => r.Features).ToArray();
    }

    private static float[] Reference(CoherenceEncoderWeights weights, CoherencePooling pooling, string text)
    {
        var vocabulary = TestEncoders.Vocabulary(weights.VocabularySize);
        // NormalizeText removes diacritics ("éclair" -> "eclair") and lower-cases.
        var words = text.ToLowerInvariant().Replace('é', 'e').Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return ReferenceEncoder.Features(weights, pooling, TestEncoders.Ids(string.Join(' ', words), vocabulary), words);
    }

    [TestMethod]
    [DataRow(3, 5, CoherencePooling.Mean)]
    [DataRow(3, 5, CoherencePooling.MeanMax)]
    [DataRow(3, 5, CoherencePooling.Sif)]
    [DataRow(2, 2, CoherencePooling.Mean)]
    [DataRow(4, 8, CoherencePooling.MeanMax)]
    public void SavedChainGivesUnseenWordsTheirNgramVectorsAsTheReferenceDoes(int minLength, int maxLength, CoherencePooling pooling)
    {
        var weights = SubwordWeights(minLength, maxLength, pooling == CoherencePooling.Sif);
        var actual = ChainFeatures(weights, pooling, Texts);
        for (int i = 0; i < Texts.Length; i++)
            TestEncoders.AssertClose(Reference(weights, pooling, Texts[i]), actual[i], 1e-5f, $"text '{Texts[i]}'");

        // An unseen word now has a vector of its own; without subwords the same row would be all zeros.
        Assert.IsTrue(actual[2].Any(v => v != 0), "'zzz' alone");
        Assert.IsTrue(ChainFeatures(TestEncoders.RandomWeights(0), CoherencePooling.Mean, ["zzz"])[0].All(v => v == 0));
    }

    [TestMethod]
    public void UnseenWordTooShortForAnyNgramIsSkipped()
    {
        var weights = SubwordWeights(4, 5);
        var features = ChainFeatures(weights, CoherencePooling.Mean, ["a w1", "w1"]);
        // "a" is ‹a›, three positions: no 4-gram, so the row is w1's vector alone.
        TestEncoders.AssertClose(features[1], features[0], 1e-6f, "'a w1' against 'w1'");
    }

    [TestMethod]
    public void FittedStageWithSubwordsScoresTheSameInAProcessWithoutTheLibrary()
    {
        var ml = new MLContext(seed: 1);
        var train = SampleData.Read("data/sample/spam/train.tsv");
        var options = new CoherenceEmbeddingOptions
        {
            EmbeddingDimension = 16, ContextLength = 16, BatchSize = 8, Steps = 40, NeighborCount = 8, EvaluationInterval = 0, Seed = 5,
            SubwordBuckets = 4096,
        };
        using var stage = ml.Transforms.Text.CoherenceEmbeddings(FeaturesColumn, TextColumn, options).Fit(ml.Data.LoadFromEnumerable(train));
        // A word of the vocabulary, the same word misspelt (outside it), and words never seen.
        string[] texts = ["free money now", "freee moneyy", "qwxyzzy", train[0].Text.Replace('\n', ' ')];
        var rows = ml.Data.LoadFromEnumerable(texts.Select(t => new TextRow { Text = t }).ToArray());
        var expected = ml.Data.CreateEnumerable<FeatureRow>(stage.Transform(rows), reuseRowObject: false).Select(r => r.Features).ToArray();
        Assert.IsTrue(expected[1].Any(v => v != 0) && expected[2].Any(v => v != 0), "unseen words have vectors");

        string directory = Directory.CreateTempSubdirectory("coherence-subwords").FullName;
        try
        {
            string zip = Path.Combine(directory, "model.zip");
            ml.Model.Save(stage, rows.Schema, zip);
            var actual = SeparateProcessScoring.Features(zip, texts, FeaturesColumn);
            for (int r = 0; r < texts.Length; r++)
                TestEncoders.AssertClose(expected[r], actual[r], 1e-6f, $"row {r}");
        }
        finally
        {
            Directory.Delete(directory, true);
        }
    }

    [TestMethod]
    public void SubwordOptionsAreValidatedWithTheirNames()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(new[] { new TextRow { Text = "a b c" } });
        void Fails(CoherenceEmbeddingOptions options, string name, string valid)
        {
            var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.Text.CoherenceEmbeddings(FeaturesColumn, TextColumn, options).Fit(data));
            StringAssert.Contains(error.Message, name);
            StringAssert.Contains(error.Message, valid);
        }
        Fails(new CoherenceEmbeddingOptions { SubwordBuckets = 100 }, "SubwordBuckets", "1,024 to 4,194,304");
        Fails(new CoherenceEmbeddingOptions { SubwordBuckets = 4096, Layers = 1 }, "SubwordBuckets", "static mode");
        Fails(new CoherenceEmbeddingOptions { SubwordMinLength = 1 }, "SubwordMinLength", "2 to 8");
        Fails(new CoherenceEmbeddingOptions { SubwordMinLength = 4, SubwordMaxLength = 3 }, "SubwordMaxLength", "SubwordMinLength (4) to 8");
    }
}
