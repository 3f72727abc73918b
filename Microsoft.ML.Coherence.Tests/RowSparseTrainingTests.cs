using Microsoft.ML.Coherence.Corpus;
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

    /// <summary>
    /// Rows touched at different steps (row r every (r+1)th step) follow a dense AdamW over the whole table, whose rows take
    /// zero gradients between their touches: at each touch, and for every row after <see cref="RowSparseAdamW.Flush"/>,
    /// with a constant rate and with a warm-up and cosine schedule (the catch-up replays each missed step's rate and bias
    /// corrections).
    /// </summary>
    [TestMethod]
    [DataRow(false, 1e-5f, DisplayName = "constant rate")]
    [DataRow(true, 1e-5f, DisplayName = "warm-up and cosine schedule")]
    public void IntermittentlyTouchedRowsFollowDenseAdamW(bool schedule, float tolerance)
    {
        const int Rows = 3, Columns = 2, TotalSteps = 40;
        torch.random.manual_seed(12);
        using var initial = torch.randn(Rows, Columns);
        using var target = torch.randn(Rows, Columns);
        using var table = new TorchSharp.Modules.Parameter(initial.clone());
        using var sparse = new RowSparseAdamW([table], 0.05, 0.0);
        using var dense = new TorchSharp.Modules.Parameter(initial.clone());
        using var adamW = new SafeAdamW([dense], 0.05, 0.0);
        for (int step = 1; step <= TotalSteps; step++)
        {
            long[] rows = Enumerable.Range(0, Rows).Where(r => step % (r + 1) == 0).Select(r => (long)r).ToArray();
            double lr = schedule ? LearningRateSchedule.LearningRate(step, TotalSteps, 0.05, 0.1) : 0.05;
            sparse.LearningRate = lr;
            adamW.LearningRate = lr;
            using var scope = torch.NewDisposeScope();
            var ids = torch.tensor(rows);
            sparse.CatchUp(table, ids); // as the trainer does before a step reads its rows
            Tensor leaf;
            using (torch.no_grad())
                leaf = table.index_select(0, ids);
            leaf.requires_grad_(true);
            Loss(leaf, target.index_select(0, ids)).backward();
            sparse.Step(table, ids, leaf.grad!);

            Loss(dense.index_select(0, ids), target.index_select(0, ids)).backward(); // zero gradient on the other rows
            adamW.Step();
            adamW.ZeroGrad();
            foreach (long r in rows)
                AssertRowsClose(dense, table, r, tolerance, $"step {step}");
        }
        sparse.Flush();
        for (int r = 0; r < Rows; r++)
            AssertRowsClose(dense, table, r, tolerance, "after the flush");
        CollectionAssert.AreEqual(new[] { 40.0, 40, 40 }, sparse.RowSteps(table).data<double>().ToArray());
    }

    private static void AssertRowsClose(Tensor expected, Tensor actual, long row, float tolerance, string when)
    {
        var e = expected[row].data<float>().ToArray();
        var a = actual[row].data<float>().ToArray();
        for (int c = 0; c < e.Length; c++)
            Assert.AreEqual(e[c], a[c], tolerance, $"{when}, row {row}, column {c}: dense {e[c]:R}, row-sparse {a[c]:R}");
    }

    /// <summary>What the catch-up is for: a row touched once keeps moving under dense AdamW (its first moment decays into the
    /// weights), here about 10 times its own step; the flush applies that tail, which plain lazy Adam drops. The row is touched
    /// at step 1,000 only, the other row at every step; expected: dense AdamW's update at step 1,000 and its 700
    /// zero-gradient steps after it, computed here from the AdamW formulas.</summary>
    [TestMethod]
    public void AOnceTouchedRowTakesDenseAdamWsTailAtTheFlush()
    {
        const int Touch = 1000, After = 700; // 700 > RowSparseAdamW.Window: the flush reads the finalised sum of step 1,000
        const double Lr = 0.01, B1 = 0.9, B2 = 0.999, Eps = 1e-8;
        using var table = new TorchSharp.Modules.Parameter(torch.zeros(2, 1));
        using var sparse = new RowSparseAdamW([table], Lr, 0.0);
        using var row0 = torch.tensor(new long[] { 0 });
        using var row1 = torch.tensor(new long[] { 1 });
        using var gradient = torch.ones(1, 1);
        for (int step = 1; step <= Touch + After; step++)
            sparse.Step(table, step == Touch ? row0 : row1, gradient);
        Assert.IsTrue(table[0, 0].item<float>() is var beforeFlush && beforeFlush < 0, "touched at step 1,000");
        float ownStep = table[0, 0].item<float>();
        sparse.Flush();
        float flushed = table[0, 0].item<float>();

        double expectedOwn = -Lr * (0.1 / (1 - Math.Pow(B1, Touch))) / (Math.Sqrt(0.001 / (1 - Math.Pow(B2, Touch))) + Eps);
        double expected = expectedOwn;
        for (int j = 1; j <= After; j++)
        {
            double m = 0.1 * Math.Pow(B1, j) / (1 - Math.Pow(B1, Touch + j));
            double v = 0.001 * Math.Pow(B2, j) / (1 - Math.Pow(B2, Touch + j));
            expected -= Lr * m / (Math.Sqrt(v) + Eps);
        }
        Console.WriteLine($"row 0: its own step {ownStep:F6} (dense {expectedOwn:F6}); after the flush {flushed:F6} (dense AdamW {expected:F6})");
        Assert.AreEqual(expectedOwn, ownStep, 1e-6, "the touch itself is dense AdamW's update at the global step");
        Assert.AreEqual(expected, flushed, Math.Abs(expected) * 1e-4, "the flushed row is dense AdamW's to 1e-4 (relative)");
        Assert.IsTrue(flushed < 5 * ownStep, $"the tail carries the row well past its own step: {flushed:F6} vs {ownStep:F6}");
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
        var prepared = PreparedCorpus.Prepare(() => documents.Select(TokenPiece.Document), options, 7);
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
