using Microsoft.ML.Coherence.Modules;
using Microsoft.ML.Coherence.Scoring;
using Microsoft.ML.Coherence.Tests.TestData;
using Microsoft.ML.Coherence.Text;
using Microsoft.ML.Coherence.Training;
using Microsoft.ML.Data;
using TorchSharp;

namespace Microsoft.ML.Coherence.Tests;

/// <summary>
/// ML.NET's GPU settings on a machine without CUDA: read when Fit runs, honoured for training (fallback or
/// a clear error before any work), and never passed on to the scoring chain, which scores on the CPU
/// unless <see cref="CoherenceEmbeddingOptions.ScoringGpuDeviceId"/> asks otherwise.
/// </summary>
[TestClass]
public sealed class GpuSettingsTests
{
    private static readonly List<string> Corpus = PlantedCorpus.Generate(groups: 4, wordsPerGroup: 8, sentences: 120, sentenceLength: 8, inGroupShare: 0.9, seed: 3);

    private sealed class TextRow
    {
        public string Text { get; set; } = "";
    }

    private sealed class FeatureRow
    {
        [VectorType]
        public float[] Features { get; set; } = [];
    }

    private static IDataView Data(MLContext ml) => ml.Data.LoadFromEnumerable(Corpus.Select(t => new TextRow { Text = t }));

    private static float[][] Features(MLContext ml, ITransformer transformer, IDataView data) =>
        ml.Data.CreateEnumerable<FeatureRow>(transformer.Transform(data), reuseRowObject: false).Select(r => r.Features).ToArray();

    private static void RequireNoCuda()
    {
        if (torch.cuda.is_available())
            Assert.Inconclusive("CUDA is available here: these tests are about a machine without it.");
    }

    [TestMethod]
    public void GpuIdWithFallbackSetAfterCreatingTheStageFitsAndScoresLikeACpuFit()
    {
        RequireNoCuda();
        var cpu = new MLContext(seed: 1);
        using var cpuStage = cpu.Transforms.Text.CoherenceEmbeddings("Features", "Text", PlantedCorpus.TinyOptions(steps: 20)).Fit(Data(cpu));
        var expected = Features(cpu, cpuStage, Data(cpu));

        var gpu = new MLContext(seed: 1);
        var messages = new List<string>();
        gpu.Log += (_, e) => { lock (messages) messages.Add(e.RawMessage); };
        var estimator = gpu.Transforms.Text.CoherenceEmbeddings("Features", "Text", PlantedCorpus.TinyOptions(steps: 20));
        gpu.GpuDeviceId = 0;   // after the estimator exists: must still apply
        gpu.FallbackToCpu = true;
        using var stage = estimator.Fit(Data(gpu));

        Assert.AreEqual("cpu", stage.Report.Device, ignoreCase: true);
        lock (messages)
            Assert.IsTrue(messages.Any(m => m.Contains("MLContext.GpuDeviceId is 0 but that CUDA device is not available; training on the CPU")),
                "the fallback is logged");
        // Scoring in the GPU-configured context runs on the CPU (the saved chain was built without the GPU id).
        var actual = Features(gpu, stage, Data(gpu));
        Assert.AreEqual(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            CollectionAssert.AreEqual(expected[i], actual[i], $"row {i}");

        using var saved = new MemoryStream();
        gpu.Model.Save(stage, Data(gpu).Schema, saved);
        saved.Position = 0;
        var fresh = new MLContext(seed: 2);
        var loaded = fresh.Model.Load(saved, out _);
        CollectionAssert.AreEqual(expected[0], Features(fresh, loaded, Data(fresh))[0]);
    }

    [TestMethod]
    public void GpuIdWithoutFallbackFailsBeforeAnyWorkWithAnErrorNamingTheFix()
    {
        RequireNoCuda();
        var ml = new MLContext(seed: 1);
        var estimator = ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", PlantedCorpus.TinyOptions(steps: 20));
        int reports = 0;
        estimator = estimator.WithProgress(new Progress<CoherenceTrainingProgress>(_ => Interlocked.Increment(ref reports)));
        ml.GpuDeviceId = 0;
        ml.FallbackToCpu = false;
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => estimator.Fit(Data(ml)));
        StringAssert.Contains(error.Message, "MLContext.GpuDeviceId is 0, but CUDA is not available");
        StringAssert.Contains(error.Message, "set MLContext.FallbackToCpu = true or GpuDeviceId = null");
        Assert.AreEqual(0, reports);

        // The corpus is not even read: the device is chosen before the first pass.
        int passes = 0;
        var tokenizer = new CoherenceTokenizer(ml);
        Assert.ThrowsExactly<InvalidOperationException>(() =>
            CoherenceEmbeddingEngine.Train(ml, () => { passes++; return tokenizer.Tokenize(Corpus); }, PlantedCorpus.TinyOptions(steps: 20)));
        Assert.AreEqual(0, passes);
    }

    [TestMethod]
    public void ScoringChainIgnoresTheContextsGpuId()
    {
        // Before: the context's GPU id reached ApplyOnnxModel, and the CPU ONNX Runtime failed with
        // EntryPointNotFoundException 'OrtSessionOptionsAppendExecutionProvider_CUDA'.
        var ml = new MLContext(seed: 1) { GpuDeviceId = 0, FallbackToCpu = false };
        var weights = new CoherenceEncoderWeights { VocabularySize = 3, Dimension = 2, Heads = 1, ContextLength = 4, Embeddings = [0, 0, 1, 2, 3, 4] };
        using var chain = (IDisposable)ScoringChainBuilder.Build(ml, "Features", "Text", ["<unk>", "a", "b"], weights, CoherencePooling.Mean);
        var data = ml.Data.LoadFromEnumerable(new[] { new TextRow { Text = "a b zzz" } });
        TestEncoders.AssertClose([2f / MathF.Sqrt(13), 3f / MathF.Sqrt(13)], Features(ml, (ITransformer)chain, data)[0], 1e-7f, "mean (2, 3), unit length");
    }

    [TestMethod]
    public void ScoringGpuWithoutACudaOnnxRuntimeFailsBeforeTrainingOrFallsBackWhenAllowed()
    {
        var ml = new MLContext(seed: 1);
        var options = PlantedCorpus.TinyOptions(steps: 20);
        options.ScoringGpuDeviceId = 0;
        var estimator = ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", options);
        int reports = 0;
        estimator = estimator.WithProgress(new Progress<CoherenceTrainingProgress>(_ => Interlocked.Increment(ref reports)));
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => estimator.Fit(Data(ml)));
        Assert.AreEqual(
            "Option 'ScoringGpuDeviceId' is 0, but the ONNX Runtime in this application has no CUDA execution provider " +
            "(the Microsoft.ML.OnnxRuntime package is CPU-only). Reference Microsoft.ML.OnnxRuntime.Gpu instead, set " +
            "MLContext.FallbackToCpu = true, or leave ScoringGpuDeviceId null to score on the CPU.", error.Message);
        Assert.AreEqual(0, reports);

        string? warning = null;
        Assert.IsNull(ScoringDevice.Resolve(0, fallbackToCpu: true, m => warning = m, cudaProviderPresent: () => false));
        StringAssert.EndsWith(warning, "; scoring on the CPU (MLContext.FallbackToCpu is true).");
        Assert.AreEqual(1, ScoringDevice.Resolve(1, fallbackToCpu: false, _ => Assert.Fail("no warning"), cudaProviderPresent: () => true));
        Assert.IsNull(ScoringDevice.Resolve(null, fallbackToCpu: false, _ => Assert.Fail("no warning"), cudaProviderPresent: () => throw new AssertFailedException("not asked")));
    }

    [TestMethod]
    public void NegativeScoringGpuIdIsRejectedWithTheOptionsName()
    {
        var ml = new MLContext(seed: 1);
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            ml.Transforms.Text.CoherenceEmbeddings("F", "Text", new CoherenceEmbeddingOptions { ScoringGpuDeviceId = -1 }));
        StringAssert.Contains(error.Message, "Option 'ScoringGpuDeviceId' is -1; valid: null (score on the CPU) or a GPU index, 0 or more.");
    }
}
