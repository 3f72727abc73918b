using Microsoft.ML.Coherence.Modules;
using Microsoft.ML.Coherence.Statistics;
using Microsoft.ML.Coherence.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Tests;

/// <summary>
/// What the CUDA path relies on, checked without a GPU: moving the model moves the tensors its fields hold
/// (the trainer and the losses read the embedding through a field, not through parameters()). The "meta"
/// device stands in for CUDA; libtorch has no meta kernels for index_select, so the forward pass itself is
/// checked on a real GPU by tools/Coherence.GpuCheck (docs/gpu.md).
/// </summary>
[TestClass]
public sealed class DevicePlacementTests
{
    [TestMethod]
    [DataRow(0)]
    [DataRow(2)]
    public void ModuleToMovesTheParametersTheModelReadsThroughItsFields(int layers)
    {
        using var scope = torch.NewDisposeScope();
        using var model = new CoherenceLanguageModel(vocabularySize: 50, dimension: 16, layers: layers, heads: 4, contextLength: 8, staticContextSize: 3);
        model.to(DeviceType.META);
        Assert.AreEqual(DeviceType.META, model.Embedding.device_type, "the Embedding field must follow Module.to");
        foreach (var (name, parameter) in model.named_parameters())
            Assert.AreEqual(DeviceType.META, parameter.device_type, name);
    }

    [TestMethod]
    public void NeighbourTensorsPadRowsWithFewerThanKNeighbours()
    {
        // Token 1 of the hand-counted document has 2 neighbours with positive PPMI; K = 3 leaves one padding slot.
        var counts = new CooccurrenceCounts(vocabularySize: 4, window: 2);
        counts.AddDocument([1, 2, 3, 1, 0, 2]);
        var field = StatisticalField.Build(counts, neighborCount: 3);
        Assert.IsLessThan(3, field.NeighborCountPerToken[1]);

        var batch = AlignmentBatch.Create([1], field, negatives: [2]);
        var ids = batch.Neighbors;
        var p = batch.Probabilities;
        int real = field.NeighborCountPerToken[1];
        Assert.AreEqual(3, ids.Length);
        CollectionAssert.AreEqual(field.GetNeighbors(1).ToArray().Select(i => (long)i).ToArray(), ids[..real]);
        var mask = batch.LogitMask();
        for (int j = real; j < 3; j++)
        {
            Assert.AreEqual(0L, ids[j]);
            Assert.AreEqual(0f, p[j]);
            Assert.AreEqual(AlignmentBatch.MaskedLogit, mask[j], "padding is masked");
        }
        Assert.AreEqual(1.0, p.Sum(), 1e-5);
        // Negative 2 is a neighbour of token 1 (it co-occurs with it), so it is masked for that anchor.
        Assert.AreEqual(ids[..real].Contains(2L) ? AlignmentBatch.MaskedLogit : 0f, mask[3]);
    }
}
