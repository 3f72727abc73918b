using Microsoft.ML.Coherence.Tests.Oracle;
using Microsoft.ML.Coherence.Modules;
using Microsoft.ML.Coherence.Scoring;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Microsoft.ML.Coherence.Tests;

[TestClass]
public sealed class OnnxEncoderWriterTests
{
    internal static float[] RunGraph(byte[] model, int[] ids, out int[] outputShape)
    {
        using var session = new InferenceSession(model);
        var input = new DenseTensor<uint>(ids.Select(i => (uint)i).ToArray(), [1, ids.Length]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(OnnxEncoderWriter.DefaultInputName, input)]);
        var tensor = results.Single().AsTensor<float>();
        outputShape = tensor.Dimensions.ToArray();
        return tensor.ToArray();
    }

    /// <summary>
    /// MeanMax's output equals the reference; Mean's is the sum of the known vectors, whose direction (what the scoring
    /// chain keeps once it scales the row to unit length) equals the reference mean's.
    /// </summary>
    private static void AssertGraphMatchesReference(CoherenceEncoderWeights weights, CoherencePooling pooling, byte[] model, int[] ids, string message)
    {
        var expected = ReferenceEncoder.Encode(weights, pooling, ids);
        var actual = RunGraph(model, ids, out var shape);
        CollectionAssert.AreEqual(new[] { OnnxEncoderWriter.FeatureLength(weights, pooling) }, shape, message);
        if (pooling == CoherencePooling.Mean)
        {
            expected = ReferenceEncoder.UnitNorm(expected);
            actual = ReferenceEncoder.UnitNorm(actual);
        }

        TestEncoders.AssertClose(expected, actual, 1e-5f, message);
    }

    [TestMethod]
    [DataRow(0, CoherencePooling.Mean)]
    [DataRow(0, CoherencePooling.MeanMax)]
    [DataRow(2, CoherencePooling.Mean)]
    [DataRow(2, CoherencePooling.MeanMax)]
    public void GraphMatchesReferenceEncoderForEveryLength(int layers, CoherencePooling pooling)
    {
        var weights = TestEncoders.RandomWeights(layers);
        var model = OnnxEncoderWriter.WriteBytes(weights, pooling);
        int[][] rows =
        [
            [], [3], [7, 0, 12], [1, 2, 3, 4], [0, 49, 10, 10, 0], [5, 6, 0, 8, 9, 10, 11, 0, 13], [0, 0, 0], [0, 0, 0, 0, 0, 17],
        ];
        foreach (var ids in rows)
        {
            AssertGraphMatchesReference(weights, pooling, model, ids, $"ids [{string.Join(' ', ids)}]");
        }
    }

    [TestMethod]
    [DataRow(CoherencePooling.Mean)]
    [DataRow(CoherencePooling.MeanMax)]
    public void UnpaddedTransformerGraphEqualsTheReferenceAroundTheContextLength(CoherencePooling pooling)
    {
        // L = 64: one position, one short of a chunk, exactly one chunk, one past it (a whole chunk plus a last chunk of
        // one), and a long row; unknown ids sprinkled in.
        var weights = TestEncoders.RandomWeights(2, seed: 9, contextLength: 64);
        var model = OnnxEncoderWriter.WriteBytes(weights, pooling);
        var random = new Random(4);
        foreach (int length in new[] { 1, 63, 64, 65, 200 })
        {
            int[] ids = Enumerable.Range(0, length).Select(_ => random.Next(10) == 0 ? 0 : random.Next(1, TestEncoders.VocabularySize)).ToArray();
            ids[0] = 5;
            AssertGraphMatchesReference(weights, pooling, model, ids, $"{length} tokens");
        }
    }

    [TestMethod]
    public void TransformerGraphHasNoPadding()
    {
        var model = OnnxEncoderWriter.CreateModel(TestEncoders.RandomWeights(2), CoherencePooling.Mean);
        Assert.IsFalse(model.Graph.Node.Any(n => n.OpType == "Pad"), "the graph must not pad rows to whole chunks");
    }

    [TestMethod]
    [DataRow(0, CoherencePooling.Mean)]
    [DataRow(0, CoherencePooling.MeanMax)]
    [DataRow(2, CoherencePooling.Mean)]
    [DataRow(2, CoherencePooling.MeanMax)]
    public void EmptyAndAllUnknownRowsGiveZeros(int layers, CoherencePooling pooling)
    {
        var model = OnnxEncoderWriter.WriteBytes(TestEncoders.RandomWeights(layers), pooling);
        foreach (var ids in new[] { Array.Empty<int>(), [0], [0, 0, 0, 0, 0] })
        {
            Assert.IsTrue(RunGraph(model, ids, out _).All(v => v == 0f), $"{ids.Length} unknown ids");
        }
    }

    [TestMethod]
    public void StaticMeanIsHandCheckable()
    {
        // E = [[0,0],[1,2],[3,4]]; ids 1, 2, 0 (unknown): mean of [1,2] and [3,4] = [2,3]; the Mean graph writes their sum
        // [4,6], which the scoring chain scales to unit length (the mean's direction).
        var weights = new CoherenceEncoderWeights
        {
            VocabularySize = 3, Dimension = 2, Heads = 1, ContextLength = 4, Embeddings = [0, 0, 1, 2, 3, 4],
        };
        CollectionAssert.AreEqual(new[] { 2f, 3f }, ReferenceEncoder.Encode(weights, CoherencePooling.Mean, [1, 2, 0]));
        CollectionAssert.AreEqual(new[] { 4f, 6f }, RunGraph(OnnxEncoderWriter.WriteBytes(weights, CoherencePooling.Mean), [1, 2, 0], out _));
        CollectionAssert.AreEqual(
            new[] { 2f, 3f, 3f, 4f },
            RunGraph(OnnxEncoderWriter.WriteBytes(weights, CoherencePooling.MeanMax), [1, 2, 0], out _));
    }

    [TestMethod]
    public void StaticMeanGraphIsThreeNodes()
    {
        // ML.NET runs the graph once per row, so on short rows every node is a measurable share of the scoring time.
        var model = OnnxEncoderWriter.CreateModel(TestEncoders.RandomWeights(0), CoherencePooling.Mean);
        CollectionAssert.AreEqual(new[] { "Cast", "Gather", "ReduceSum" }, model.Graph.Node.Select(n => n.OpType).ToArray());
    }

    [TestMethod]
    public void ReferenceEncoderRunsChunksIndependentlyAndCausally()
    {
        // Chunks of L = 4 do not see each other, and a position does not see later ones.
        var weights = TestEncoders.RandomWeights(2);
        int[] ids = [1, 2, 3, 4, 5, 6];
        var all = ReferenceEncoder.Forward(weights, ids);
        var firstChunk = ReferenceEncoder.Forward(weights, [1, 2, 3, 4]);
        var secondChunk = ReferenceEncoder.Forward(weights, [5, 6]);
        var prefix = ReferenceEncoder.Forward(weights, [1, 2]);
        TestEncoders.AssertClose([.. firstChunk, .. secondChunk], all, 0f, "chunks");
        TestEncoders.AssertClose(prefix, all[..(2 * TestEncoders.Dimension)], 0f, "causal prefix");
        Assert.IsFalse(all.Take(TestEncoders.Dimension).SequenceEqual(weights.Embeddings.Skip(TestEncoders.Dimension).Take(TestEncoders.Dimension)));
    }

    [TestMethod]
    public void ModelDeclaresIrOpsetAndShapes()
    {
        var model = OnnxEncoderWriter.CreateModel(TestEncoders.RandomWeights(2), CoherencePooling.MeanMax, "in", "out");
        Assert.AreEqual(OnnxEncoderWriter.IrVersion, model.IrVersion);
        Assert.AreEqual(OnnxEncoderWriter.OpsetVersion, model.OpsetImport.Single().Version);
        var input = model.Graph.Input.Single();
        Assert.AreEqual("in", input.Name);
        Assert.AreEqual(1L, input.Type.TensorType.Shape.Dim[0].DimValue);
        Assert.AreEqual("n", input.Type.TensorType.Shape.Dim[1].DimParam);
        var output = model.Graph.Output.Single();
        Assert.AreEqual("out", output.Name);
        Assert.AreEqual(2L * TestEncoders.Dimension, output.Type.TensorType.Shape.Dim.Single().DimValue);
    }

    [TestMethod]
    public void InconsistentWeightsAreRejected()
    {
        var weights = new CoherenceEncoderWeights { VocabularySize = 3, Dimension = 2, Heads = 1, ContextLength = 4, Embeddings = [0, 0, 1] };
        var error = Assert.ThrowsExactly<ArgumentException>(() => OnnxEncoderWriter.CreateModel(weights, CoherencePooling.Mean));
        Assert.AreEqual("weights", error.ParamName);
        Assert.Contains("Embeddings has 3 values; expected 6", error.Message);
    }
}
