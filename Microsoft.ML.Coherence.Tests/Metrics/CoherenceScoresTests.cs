using Microsoft.ML.Coherence.Evaluation;

namespace Microsoft.ML.Coherence.Tests.Metrics;

[TestClass]
public sealed class CoherenceScoresTests
{
    // Rows: 0 unknown, 1 (1,0), 2 (2,0) parallel to 1, 3 (0,3) orthogonal to 1, 4 (1,1), 5 (0,2), 6 zero.
    private static readonly EmbeddingMatrix Embeddings = new([0, 0, 1, 0, 2, 0, 0, 3, 1, 1, 0, 2, 0, 0], 2);

    private static StatisticalNeighbors Neighbors(params (int Id, float P)[][] perToken)
    {
        const int k = 2;
        var ids = new int[perToken.Length * k];
        var p = new float[perToken.Length * k];
        ids.AsSpan().Fill(-1);
        for (var i = 0; i < perToken.Length; i++)
        {
            for (var s = 0; s < perToken[i].Length; s++)
            {
                ids[(i * k) + s] = perToken[i][s].Id;
                p[(i * k) + s] = perToken[i][s].P;
            }
        }

        return new StatisticalNeighbors(ids, p, k);
    }

    [TestMethod]
    public void OnlyNeighbourParallelScoresOneAndOrthogonalScoresZero()
    {
        var parallel = Neighbors([], [(2, 1f)], [], [], [], [], []);
        var orthogonal = Neighbors([], [(3, 1f)], [], [], [], [], []);

        Assert.AreEqual(1f, CoherenceScores.Compute(Embeddings, parallel, 1), 1e-6f);
        Assert.AreEqual(0f, CoherenceScores.Compute(Embeddings, orthogonal, 1), 1e-6f);
    }

    [TestMethod]
    public void TwoNeighbourExampleMatchesHandComputation()
    {
        // e1 = (1,0); T = 0.25 (1,1)(1,1)^T + 0.75 (0,2)(0,2)^T = [[0.25, 0.25], [0.25, 3.25]].
        // e1^T T e1 = 0.25, trace T = 3.5, |e1|^2 = 1, so c = 0.25 / 3.5 = 1/14.
        var neighbors = Neighbors([], [(4, 0.25f), (5, 0.75f)], [], [], [], [], []);

        Assert.AreEqual(1f / 14f, CoherenceScores.Compute(Embeddings, neighbors, 1), 1e-6f);
    }

    [TestMethod]
    public void UndefinedTokensAreNaN()
    {
        // Token 0 is unknown, token 2 has no neighbours, token 6 is a zero vector, token 3's only neighbour is zero (trace 0).
        var neighbors = Neighbors([(1, 1f)], [(2, 1f)], [], [(6, 1f)], [(1, 1f)], [(1, 1f)], [(1, 1f)]);

        var scores = CoherenceScores.Compute(Embeddings, neighbors);

        Assert.IsTrue(float.IsNaN(scores[0]));
        Assert.AreEqual(1f, scores[1], 1e-6f);
        Assert.IsTrue(float.IsNaN(scores[2]));
        Assert.IsTrue(float.IsNaN(scores[3]));
        Assert.AreEqual(0.5f, scores[4], 1e-6f); // (1,1) vs (1,0): cos^2 = 1/2.
        Assert.IsTrue(float.IsNaN(scores[6]));
    }

    [TestMethod]
    public void ParallelComputationMatchesExplicitContextTensor()
    {
        const int n = 40, d = 6, k = 5;
        var random = new Random(7);
        var values = new float[n * d];
        for (var v = 0; v < values.Length; v++)
        {
            values[v] = (float)((random.NextDouble() * 2) - 1);
        }

        var ids = new int[n * k];
        var p = new float[n * k];
        for (var s = 0; s < ids.Length; s++)
        {
            ids[s] = random.Next(1, n);
            p[s] = (float)random.NextDouble();
        }

        var embeddings = new EmbeddingMatrix(values, d);
        var scores = CoherenceScores.Compute(embeddings, new StatisticalNeighbors(ids, p, k));

        for (var i = 1; i < n; i++)
        {
            // Build T_i (d x d) explicitly and evaluate the Rayleigh quotient directly.
            var t = new double[d, d];
            for (var s = i * k; s < (i + 1) * k; s++)
            {
                var ej = embeddings.Row(ids[s]);
                for (var a = 0; a < d; a++)
                {
                    for (var b = 0; b < d; b++)
                    {
                        t[a, b] += p[s] * ej[a] * ej[b];
                    }
                }
            }

            var ei = embeddings.Row(i);
            double quadratic = 0, trace = 0, norm = 0;
            for (var a = 0; a < d; a++)
            {
                trace += t[a, a];
                norm += ei[a] * ei[a];
                for (var b = 0; b < d; b++)
                {
                    quadratic += ei[a] * t[a, b] * ei[b];
                }
            }

            Assert.AreEqual(quadratic / (norm * trace), scores[i], 1e-5);
        }
    }

    [TestMethod]
    public void NeighbourOutsideVocabularyThrows()
    {
        var neighbors = Neighbors([], [(7, 1f)], [], [], [], [], []);

        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => CoherenceScores.Compute(Embeddings, neighbors));
        Assert.AreEqual("neighbors", error.ParamName);
    }

    [TestMethod]
    public void VocabularyMismatchThrows()
    {
        var neighbors = new StatisticalNeighbors([-1, -1], [0, 0], 1);

        var error = Assert.ThrowsExactly<ArgumentException>(() => CoherenceScores.Compute(Embeddings, neighbors));
        StringAssert.Contains(error.Message, "covers 2 tokens but the embedding matrix has 7 rows");
    }
}
