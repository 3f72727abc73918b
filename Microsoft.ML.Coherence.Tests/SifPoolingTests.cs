using Microsoft.ML.Coherence.Tests.Oracle;
using Microsoft.ML.Coherence.Modules;
using Microsoft.ML.Coherence.Scoring;

namespace Microsoft.ML.Coherence.Tests;

[TestClass]
public sealed class SifPoolingTests
{
    [TestMethod]
    public void TokenWeightsAreSmoothedInverseFrequencies()
    {
        // Counts 0 (unknown), 1000, 9000 of 10,000 tokens: p = 0, 0.1, 0.9; a = 0.001.
        var weights = SifPooling.TokenWeights([0, 1000, 9000]);
        Assert.AreEqual(1f, weights[0], 1e-7f);
        Assert.AreEqual(0.001f / 0.101f, weights[1], 1e-7f);
        Assert.AreEqual(0.001f / 0.901f, weights[2], 1e-7f);
    }

    [TestMethod]
    public void FirstPrincipalDirectionOfPlantedVectors()
    {
        // Vectors along (3, 4)/5 with small orthogonal noise: the direction is (0.6, 0.8) up to sign.
        float[][] vectors = [[3f, 4f], [6.08f, 7.94f], [-3.04f, -3.97f], [2.96f, 4.03f]];
        var u = SifPooling.FirstPrincipalDirection(vectors, 2);
        Assert.AreEqual(1.0, Math.Sqrt(u[0] * u[0] + u[1] * u[1]), 1e-6);
        Assert.AreEqual(0.6, Math.Abs(u[0]), 0.01);
        Assert.AreEqual(0.8, Math.Abs(u[1]), 0.01);
        Assert.AreEqual(0, SifPooling.FirstPrincipalDirection([new float[2]], 2).Length, "all-zero vectors have no direction");
    }

    [TestMethod]
    public void SifPoolingMatchesAHandComputedExampleInTheReferenceAndTheGraph()
    {
        // E = [[0,0],[1,2],[3,4]], token weights w1 = 0.5, w2 = 0.25, u = (1, 0).
        // ids 1, 2, 0: weighted mean over the 2 known tokens = (0.5·[1,2] + 0.25·[3,4]) / 2 = [0.625, 1.0];
        // removing the component along u leaves [0, 1.0].
        var weights = new CoherenceEncoderWeights
        {
            VocabularySize = 3, Dimension = 2, Heads = 1, ContextLength = 4, Embeddings = [0, 0, 1, 2, 3, 4],
            TokenWeights = [1f, 0.5f, 0.25f], CommonComponent = [1f, 0f],
        };
        CollectionAssert.AreEqual(new[] { 0f, 1f }, ReferenceEncoder.Encode(weights, CoherencePooling.Sif, [1, 2, 0]));
        var noComponent = weights.WithSif(weights.TokenWeights, []);
        CollectionAssert.AreEqual(new[] { 0.625f, 1f }, ReferenceEncoder.Encode(noComponent, CoherencePooling.Sif, [1, 2, 0]));

        CollectionAssert.AreEqual(new[] { 0f, 1f }, Run(OnnxEncoderWriter.WriteBytes(weights, CoherencePooling.Sif), [1, 2, 0]));
        CollectionAssert.AreEqual(new[] { 0.625f, 1f }, Run(OnnxEncoderWriter.WriteBytes(noComponent, CoherencePooling.Sif), [1, 2, 0]));
        CollectionAssert.AreEqual(new[] { 0f, 0f }, Run(OnnxEncoderWriter.WriteBytes(weights, CoherencePooling.Sif), []));
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(2)]
    public void SifGraphMatchesTheReferenceEncoder(int layers)
    {
        var plain = TestEncoders.RandomWeights(layers);
        var random = new Random(3);
        var tokenWeights = Enumerable.Range(0, plain.VocabularySize).Select(_ => (float)random.NextDouble()).ToArray();
        var u = SifPooling.FirstPrincipalDirection([Enumerable.Range(0, plain.Dimension).Select(i => (float)Math.Sin(i + 1)).ToArray()], plain.Dimension);
        var weights = plain.WithSif(tokenWeights, u);
        var model = OnnxEncoderWriter.WriteBytes(weights, CoherencePooling.Sif);
        foreach (var ids in new int[][] { [3], [7, 0, 12], [0, 49, 10, 10, 0], [5, 6, 0, 8, 9, 10, 11, 0, 13] })
            TestEncoders.AssertClose(ReferenceEncoder.Encode(weights, CoherencePooling.Sif, ids), Run(model, ids), 1e-5f, $"ids [{string.Join(' ', ids)}]");
    }

    private static float[] Run(byte[] model, int[] ids) => OnnxEncoderWriterTests.RunGraph(model, ids, out _);

    [TestMethod]
    [DataRow(0, DisplayName = "static")]
    [DataRow(1, DisplayName = "1 layer, chunks of 4")]
    public void TheTrainingPathsStatesAreTheGraphsStates(int layers)
    {
        // SIF's common component is estimated from the states the training path computes; they must be the states the saved
        // graph pools (the oracle computes those): the table's rows, or each chunk of the context length on its own.
        var options = TestData.PlantedCorpus.TinyOptions(steps: 1);
        (options.Layers, options.Heads, options.ContextLength) = (layers, 2, 4);
        using var trainer = new Training.CoherenceTrainer(options, vocabularySize: 30, TorchSharp.torch.CPU, seed: 3);
        int[] ids = [5, 0, 7, 7, 29, 1, 2, 3, 11, 4];
        var expected = ReferenceEncoder.Forward(trainer.Model.ToEncoderWeights(), ids);
        var actual = trainer.TokenStates(ids);
        Assert.HasCount(expected.Length, actual);
        for (int i = 0; i < expected.Length; i++)
            Assert.AreEqual(expected[i], actual[i], 1e-4f, $"value {i}");
    }
}
