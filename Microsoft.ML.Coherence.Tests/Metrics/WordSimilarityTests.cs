using Microsoft.ML.Coherence.Evaluation;

namespace Microsoft.ML.Coherence.Tests.Metrics;

[TestClass]
public sealed class WordSimilarityTests
{
    // 0 <unk>, 1 cat (1,0), 2 dog (0.8,0.6), 3 car (0,1). Cosines: cat-dog 0.8, cat-car 0, dog-car 0.6.
    private static readonly EmbeddingMatrix Embeddings = new([0, 0, 1, 0, 0.8f, 0.6f, 0, 1], 2);

    private static int? Lookup(string word) => word switch
    {
        "<unk>" => 0,
        "cat" => 1,
        "dog" => 2,
        "car" => 3,
        _ => null,
    };

    [TestMethod]
    public void GradedScoresGiveSpearmanAndNoAuc()
    {
        WordSimilarityPair[] pairs =
        [
            new("cat", "dog", 9), new("cat", "car", 1), new("dog", "car", 5), new("cat", "zebra", 7), new("<unk>", "dog", 3),
        ];

        var result = WordSimilarity.Evaluate(pairs, Lookup, Embeddings);

        Assert.AreEqual(1.0, result.Spearman, 1e-12);
        Assert.IsNull(result.Auc);
        Assert.AreEqual(3, result.PairsFound);
        Assert.AreEqual(2, result.PairsSkipped);
    }

    [TestMethod]
    public void BinaryLabelsAlsoGiveAuc()
    {
        // Positive dog-car (0.6) against negatives cat-dog (0.8) and cat-car (0): AUC 1/2.
        // Ranks of cosine (3, 1, 2) vs gold (1.5, 1.5, 3): covariance 0, so Spearman 0.
        WordSimilarityPair[] pairs = [new("cat", "dog", 0), new("cat", "car", 0), new("dog", "car", 1)];

        var result = WordSimilarity.Evaluate(pairs, Lookup, Embeddings);

        Assert.AreEqual(0.5, result.Auc!.Value, 1e-12);
        Assert.AreEqual(0.0, result.Spearman, 1e-12);
    }

    [TestMethod]
    public void IdOutsideVocabularyThrows()
    {
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(
            () => WordSimilarity.Evaluate([new("cat", "dog", 1)], _ => 9, Embeddings));
        Assert.AreEqual("lookup", error.ParamName);
    }
}
