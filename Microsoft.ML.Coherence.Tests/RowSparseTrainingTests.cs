using Microsoft.ML.Coherence.Statistics;
using Microsoft.ML.Coherence.Internal;
using Microsoft.ML.Coherence.Tests.TestData;
using Microsoft.ML.Coherence.Text;
using Microsoft.ML.Coherence.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Tests;

/// <summary>Row-sparse training of the embedding table: the lazy AdamW against dense AdamW, and the trainer's two modes.</summary>
[TestClass]
public sealed class RowSparseTrainingTests
{
    private const int Steps = 20;

    /// <summary>A loss whose gradient depends on the rows' current values, so diverging trajectories would show.</summary>
    private static Tensor Loss(Tensor rows, Tensor target) => (rows - target).pow(2).sum() + rows.pow(3).sum();

    [TestMethod]
    public void SparseUpdateEqualsDenseAdamWOnTheTouchedRowsOver20StepsWithAScheduleAndLeavesOtherRowsBitIdentical()
    {
        torch.random.manual_seed(11);
        using var initial = torch.randn(10, 4);
        long[] touched = [1, 4, 5, 8];
        using var rowIds = torch.tensor(touched);
        using var target = torch.randn(touched.Length, 4);

        using var table = new TorchSharp.Modules.Parameter(initial.clone());
        using var sparse = new RowSparseAdamW([table], 0.05, 0.01);
        using var dense = new TorchSharp.Modules.Parameter(initial.index_select(0, rowIds));
        using var adamW = new SafeAdamW([dense], 0.05, 0.01);
        for (int step = 1; step <= Steps; step++)
        {
            double lr = LearningRateSchedule.LearningRate(step, Steps, 0.05, 0.2);
            sparse.LearningRate = lr;
            adamW.LearningRate = lr;
            using (var scope = torch.NewDisposeScope())
            {
                Tensor leaf;
                using (torch.no_grad())
                    leaf = table.index_select(0, rowIds);
                leaf.requires_grad_(true);
                Loss(leaf, target).backward();
                sparse.Step(table, rowIds, leaf.grad!);

                Loss(dense, target).backward();
                adamW.Step();
                adamW.ZeroGrad();
            }
            var expected = dense.data<float>().ToArray();
            var actual = table.index_select(0, rowIds).data<float>().ToArray();
            for (int i = 0; i < expected.Length; i++)
                Assert.AreEqual(expected[i], actual[i], 1e-6f, $"step {step}, touched entry {i}");
        }

        var before = initial.data<float>().ToArray();
        var after = table.data<float>().ToArray();
        for (int row = 0; row < 10; row++)
        {
            if (touched.Contains(row))
            {
                Assert.AreNotEqual(before[row * 4], after[row * 4], $"touched row {row} must move");
                continue;
            }
            for (int c = 0; c < 4; c++)
                Assert.AreEqual(BitConverter.SingleToInt32Bits(before[row * 4 + c]), BitConverter.SingleToInt32Bits(after[row * 4 + c]),
                    $"untouched row {row} must stay bit-identical");
        }
        CollectionAssert.AreEqual(new[] { 0.0, 20, 0, 0, 20, 20, 0, 0, 20, 0 }, sparse.RowSteps(table).data<double>().ToArray());
    }

    [TestMethod]
    public void EachRowIsBiasCorrectedWithItsOwnStepCount()
    {
        // Rows touched at different steps: each row's trajectory equals a dense AdamW that steps only when the row is touched.
        torch.random.manual_seed(12);
        using var initial = torch.randn(3, 2);
        using var target = torch.randn(3, 2);
        using var table = new TorchSharp.Modules.Parameter(initial.clone());
        using var sparse = new RowSparseAdamW([table], 0.1, 0.0);
        var singles = Enumerable.Range(0, 3).Select(r => new TorchSharp.Modules.Parameter(initial[r].unsqueeze(0).clone())).ToArray();
        var optimizers = singles.Select(p => new SafeAdamW([p], 0.1, 0.0)).ToArray();
        for (int step = 1; step <= 12; step++)
        {
            long[] rows = Enumerable.Range(0, 3).Where(r => step % (r + 1) == 0).Select(r => (long)r).ToArray(); // row r every (r+1)th step
            double lr = LearningRateSchedule.LearningRate(step, 12, 0.1, 0.25);
            sparse.LearningRate = lr;
            using var scope = torch.NewDisposeScope();
            var ids = torch.tensor(rows);
            Tensor leaf;
            using (torch.no_grad())
                leaf = table.index_select(0, ids);
            leaf.requires_grad_(true);
            Loss(leaf, target.index_select(0, ids)).backward();
            sparse.Step(table, ids, leaf.grad!);
            foreach (long r in rows)
            {
                optimizers[r].LearningRate = lr;
                Loss(singles[r], target[r].unsqueeze(0)).backward();
                optimizers[r].Step();
                optimizers[r].ZeroGrad();
            }
        }
        for (int r = 0; r < 3; r++)
        {
            var expected = singles[r].data<float>().ToArray();
            var actual = table[r].data<float>().ToArray();
            for (int c = 0; c < 2; c++)
                Assert.AreEqual(expected[c], actual[c], 1e-6f, $"row {r}, column {c}");
        }
        foreach (var o in optimizers)
            o.Dispose();
        foreach (var p in singles)
            p.Dispose();
    }

    [TestMethod]
    public void SavedStateRestoresExactly()
    {
        torch.random.manual_seed(13);
        using var table = new TorchSharp.Modules.Parameter(torch.randn(6, 3));
        using var optimizer = new RowSparseAdamW([table], 0.05, 0.0);
        using var ids = torch.tensor(new long[] { 0, 2, 5 });
        using (var gradient = torch.randn(3, 3))
            optimizer.Step(table, ids, gradient);
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
            optimizer.Save(writer);

        using var copy = new TorchSharp.Modules.Parameter(table.detach().clone());
        using var restored = new RowSparseAdamW([copy], 0.05, 0.0);
        stream.Position = 0;
        using (var reader = new BinaryReader(stream))
            restored.Load(reader);
        using var next = torch.randn(3, 3);
        optimizer.Step(table, ids, next);
        restored.Step(copy, ids, next);
        CollectionAssert.AreEqual(table.data<float>().ToArray(), copy.data<float>().ToArray());
        CollectionAssert.AreEqual(optimizer.RowSteps(table).data<double>().ToArray(), restored.RowSteps(copy).data<double>().ToArray());
    }

    [TestMethod]
    [DataRow(0, DisplayName = "static")]
    [DataRow(2, DisplayName = "2 layers")]
    public void FirstTrainerStepIsTheSameInTheRowSparseAndTheDenseMode(int layers)
    {
        // After one step every row has step count 1 in both modes, and a dense AdamW leaves zero-gradient rows
        // where they were (no weight decay by default), so the two modes must agree on every parameter.
        var options = PlantedCorpus.TinyOptions(steps: 1);
        options.Layers = layers;
        options.Heads = 2;
        var ml = new MLContext(seed: 1);
        var corpus = PlantedCorpus.Generate(groups: 4, wordsPerGroup: 8, sentences: 120, sentenceLength: 10, inGroupShare: 0.9, seed: 3);
        var documents = new CoherenceTokenizer(ml).Tokenize(corpus).ToList();
        var prepared = PreparedCorpus.Prepare(() => documents, options, 7);
        var frequencies = prepared.Vocabulary.Frequencies;
        var lm = new UnigramSampler(frequencies, options.ContextSmoothing, includeUnknown: true);
        var negatives = new UnigramSampler(frequencies, options.ContextSmoothing, includeUnknown: false);
        using var sparse = new CoherenceTrainer(options, prepared.Vocabulary.Count, torch.CPU, 7);
        using var dense = new CoherenceTrainer(options, prepared.Vocabulary.Count, torch.CPU, 7, denseEmbeddingUpdate: true);
        Assert.IsTrue(sparse.RowSparseEmbedding);
        Assert.IsFalse(dense.RowSparseEmbedding);
        var before = sparse.CurrentEmbedding();
        CollectionAssert.AreEqual(before, dense.CurrentEmbedding(), "same seed, same initial weights");

        sparse.RunStep(1, prepared.Train, lm, negatives, prepared.Field);
        dense.RunStep(1, prepared.Train, lm, negatives, prepared.Field);
        var sparseParameters = sparse.Model.parameters().Select(p => p.data<float>().ToArray()).ToArray();
        var denseParameters = dense.Model.parameters().Select(p => p.data<float>().ToArray()).ToArray();
        for (int p = 0; p < sparseParameters.Length; p++)
        {
            for (int i = 0; i < sparseParameters[p].Length; i++)
                Assert.AreEqual(denseParameters[p][i], sparseParameters[p][i], 1e-6f, $"parameter {p}, entry {i}");
        }
        var after = sparse.CurrentEmbedding();
        Assert.IsTrue(before.Where((v, i) => v != after[i]).Any(), "the step must move some rows");
    }

    [TestMethod]
    [DataRow(0, DisplayName = "static")]
    [DataRow(2, DisplayName = "2 layers")]
    public void HostAndDeviceIndexingTrainTheSameModel(int layers)
    {
        // The CPU builds the step's distinct rows and alignment mask in arrays; CUDA gathers them with tensor ops. Row order
        // in the [U, d] table differs (first read vs sorted), which only reorders the clip norm's sum.
        var corpus = PlantedCorpus.Generate(groups: 4, wordsPerGroup: 8, sentences: 120, sentenceLength: 10, inGroupShare: 0.9, seed: 3);
        var options = PlantedCorpus.TinyOptions(steps: 12);
        options.Layers = layers;
        options.Heads = 2;
        bool? hostIndexing = null;
        var host = CoherenceEmbeddingEngineTests.Train(corpus, options, configure: t => hostIndexing = t.HostIndexing).GetEmbeddingMatrix();
        var device = CoherenceEmbeddingEngineTests.Train(corpus, options, configure: t => t.HostIndexing = false).GetEmbeddingMatrix();
        Assert.IsTrue(hostIndexing, "the CPU uses host indexing by default");
        Assert.AreEqual(host.Length, device.Length);
        for (int i = 0; i < host.Length; i++)
            Assert.AreEqual(host[i], device[i], 1e-5f, $"embedding entry {i}");
    }

    [TestMethod]
    public void FullSoftmaxTrainsDensely()
    {
        var options = PlantedCorpus.TinyOptions(steps: 1);
        options.SampledSoftmaxNegatives = 0;
        using var trainer = new CoherenceTrainer(options, 50, torch.CPU, 7);
        Assert.IsFalse(trainer.RowSparseEmbedding);
    }

    [TestMethod]
    public void DeviceAlignmentBatchEqualsTheHostOneOnAHandBuiltField()
    {
        // V = 6, K = 3. Token 1: neighbours 2, 3 (padding after); token 2: 1, 4, 5; token 3: 1; token 4: none.
        var rows = new (int[] Ids, float[] P)[]
        {
            ([], []), ([2, 3], [0.7f, 0.3f]), ([1, 4, 5], [0.5f, 0.3f, 0.2f]), ([1], [1f]), ([], []), ([2, 1], [0.6f, 0.4f]),
        };
        var field = HandBuiltField(rows, k: 3);
        long[] anchors = [1, 2, 3, 5];
        long[] negatives = [3, 5, 4, 1, 3, 2];
        var host = AlignmentBatch.Create(anchors, field, negatives);

        using var scope = torch.NewDisposeScope();
        using var onDevice = DeviceField.Create(field, torch.CPU);
        var gathered = AlignmentTensors.Gather(onDevice, torch.tensor(anchors), torch.tensor(negatives));
        var uploaded = AlignmentTensors.From(host, torch.CPU);
        CollectionAssert.AreEqual(uploaded.Anchors.data<long>().ToArray(), gathered.Anchors.data<long>().ToArray());
        CollectionAssert.AreEqual(host.Neighbors, gathered.Neighbors.data<long>().ToArray());
        CollectionAssert.AreEqual(host.Probabilities, gathered.Probabilities.data<float>().ToArray());
        CollectionAssert.AreEqual(host.LogitMask(), gathered.Mask.data<float>().ToArray());
        CollectionAssert.AreEqual(host.Negatives, gathered.Negatives.data<long>().ToArray());
        CollectionAssert.AreEqual(host.RowIds.ToArray(), gathered.RowIds().data<long>().ToArray());
        Assert.AreEqual(host.MeanNegativeEntropy(), gathered.MeanNegativeEntropy.item<double>(), 1e-9);

        // Spot checks by hand: anchor 1's padding slot and its negatives 3 (a neighbour) and 1 (itself) are masked, 5 and 4 are not.
        var mask = gathered.Mask.data<float>().ToArray();
        int width = 3 + negatives.Length;
        Assert.AreEqual(AlignmentBatch.MaskedLogit, mask[0 * width + 2]);
        Assert.AreEqual(AlignmentBatch.MaskedLogit, mask[0 * width + 3 + 0]);
        Assert.AreEqual(0f, mask[0 * width + 3 + 1]);
        Assert.AreEqual(0f, mask[0 * width + 3 + 2]);
        Assert.AreEqual(AlignmentBatch.MaskedLogit, mask[0 * width + 3 + 3]);
        double expectedEntropy = ((0.7 * Math.Log(0.7)) + (0.3 * Math.Log(0.3)) + (0.5 * Math.Log(0.5)) + (0.3 * Math.Log(0.3)) + (0.2 * Math.Log(0.2))
            + 0 + (0.6 * Math.Log(0.6)) + (0.4 * Math.Log(0.4))) / 4;
        Assert.AreEqual(expectedEntropy, gathered.MeanNegativeEntropy.item<double>(), 1e-9);

        // And the loss from either form is the same number.
        torch.random.manual_seed(3);
        var embedding = torch.randn(6, 4);
        var unitFromHost = nn.functional.normalize(embedding.index_select(0, uploaded.RowIds()), p: 2, dim: 1);
        var unitFromDevice = nn.functional.normalize(embedding.index_select(0, gathered.RowIds()), p: 2, dim: 1);
        Assert.AreEqual(CoherenceAlignmentLoss.Compute(unitFromHost, uploaded, 0.5).item<float>(),
            CoherenceAlignmentLoss.Compute(unitFromDevice, gathered, 0.5).item<float>(), 1e-6);
    }

    /// <summary>A field written row by row in <see cref="StatisticalField"/>'s own format and read back.</summary>
    private static StatisticalField HandBuiltField((int[] Ids, float[] P)[] rows, int k)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            FormatHeader.Write(writer, 0x44465343, 1);
            writer.Write(rows.Length);
            writer.Write(k);
            writer.Write(0.75);
            foreach (var row in rows)
                writer.Write(row.Ids.Length);
            foreach (var row in rows)
            {
                for (int j = 0; j < k; j++)
                {
                    writer.Write(j < row.Ids.Length ? row.Ids[j] : -1);
                    writer.Write(j < row.Ids.Length ? row.P[j] : 0f);
                    writer.Write(j < row.Ids.Length ? row.P[j] : 0f);
                }
            }
        }
        stream.Position = 0;
        return StatisticalField.Load(stream);
    }
}
