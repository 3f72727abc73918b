using Microsoft.ML.Coherence.Tests.TestData;
using Microsoft.ML.Coherence.Training;
using TorchSharp;

namespace Microsoft.ML.Coherence.Tests;

[TestClass]
public sealed class CoherenceTrainerTests
{
    private static readonly List<string> Corpus = PlantedCorpus.Generate(groups: 6, wordsPerGroup: 10, sentences: 300, sentenceLength: 10, inGroupShare: 0.9, seed: 5);

    private static CoherenceEmbeddingModel Train(CoherenceEmbeddingOptions options, IProgress<CoherenceTrainingProgress>? progress = null,
        CancellationToken token = default, Action<CoherenceTrainer>? configure = null) =>
        CoherenceEmbeddingEngineTests.Train(Corpus, options, progress, token, configure);

    [TestMethod]
    public void UntrainedPerplexityIsCloseToVocabularySizeAndTrainingLowersIt()
    {
        var model = Train(PlantedCorpus.TinyOptions(steps: 120));
        double initial = model.Report.InitialHeldOutPerplexity!.Value;
        int vocabulary = model.Vocabulary.Count;
        Assert.AreEqual(vocabulary, initial, 0.1 * vocabulary, $"untrained perplexity {initial:F1} vs |V| = {vocabulary}");
        Assert.IsTrue(model.Report.FinalHeldOutPerplexity < 0.6 * initial,
            $"held-out perplexity {initial:F1} -> {model.Report.FinalHeldOutPerplexity:F1}: must fall below 60% of the untrained value");
    }

    [TestMethod]
    public void AnEvaluationStepBetweenLoggedStepsReportsTheLossesOfItsOwnStep()
    {
        // 400 steps log every 2nd step; evaluations every 7th fall on odd steps too, which used to report NaN losses.
        var options = PlantedCorpus.TinyOptions(steps: 400);
        options.EvaluationInterval = 7;
        var history = Train(options).Report.History;
        var oddEvaluations = history.Where(p => p.HeldOutPerplexity is not null && p.Step % 2 == 1).ToList();
        Assert.IsGreaterThan(20, oddEvaluations.Count, "evaluation steps that are not logged steps");
        foreach (var p in history)
        {
            Assert.IsFalse(double.IsNaN(p.Loss) || double.IsNaN(p.TaskLoss) || double.IsNaN(p.AlignmentLoss) || double.IsNaN(p.UniformityLoss),
                $"step {p.Step}: {p}");
        }
    }

    [TestMethod]
    [DataRow("checkpoint")]
    [DataRow("evaluation")]
    public void AnIOFailureAfterACompletedStepEndsInATrainingExceptionThatCarriesTheModel(string where) => TempFolder.Use("coherence-afterstep", directory =>
    {
        var options = PlantedCorpus.TinyOptions(steps: 20);
        options.CheckpointDirectory = directory;
        options.CheckpointInterval = 5;
        options.EvaluationInterval = 5;
        // Before: an IOException from the checkpoint save (or an evaluation) escaped Fit without the trained model.
        var error = Assert.ThrowsExactly<CoherenceTrainingException>(() => Train(options, configure: trainer =>
            trainer.InjectAfterStepFailure = (step, what) => step == 10 && what == where ? new IOException("No space left on device") : null));
        Assert.AreEqual(10, error.Step);
        Assert.IsNotNull(error.LastGoodModel, "the model of step 10 comes with the error");
        Assert.IsInstanceOfType<IOException>(error.InnerException);
        StringAssert.Contains(error.Message, "Training stopped after step 10");
        StringAssert.Contains(error.Message, where == "checkpoint" ? "saving the checkpoint" : "the evaluation");

        // The checkpoint of step 5 stayed intact: a new Fit resumes from it and ends where an uninterrupted run ends.
        var resumed = Train(options);
        Assert.AreEqual(5, resumed.Report.ResumedFromStep);
        var plain = PlantedCorpus.TinyOptions(steps: 20);
        plain.EvaluationInterval = 5;
        CollectionAssert.AreEqual(Train(plain).GetEmbeddingMatrix(), resumed.GetEmbeddingMatrix());
    });

    [TestMethod]
    public void SameSeedGivesTheSameModelOnTheCpu()
    {
        var a = Train(PlantedCorpus.TinyOptions(steps: 20)).GetEmbeddingMatrix();
        var b = Train(PlantedCorpus.TinyOptions(steps: 20)).GetEmbeddingMatrix();
        CollectionAssert.AreEqual(a, b);
        var other = PlantedCorpus.TinyOptions(steps: 20);
        other.Seed = 8;
        CollectionAssert.AreNotEqual(a, Train(other).GetEmbeddingMatrix());
    }

    [TestMethod]
    public void CoherenceWeightZeroGivesExactlyTheBaselineLoss()
    {
        var baselineOptions = PlantedCorpus.TinyOptions(steps: 3);
        baselineOptions.CoherenceWeight = 0;
        baselineOptions.UniformityWeight = 0;
        var sca = Train(PlantedCorpus.TinyOptions(steps: 3)).Report.History;
        var baseline = Train(baselineOptions).Report.History;
        // Step 1: same initial weights and batch, so the task losses agree; the baseline's total is its task loss alone.
        Assert.AreEqual(sca[0].TaskLoss, baseline[0].TaskLoss, 0.0);
        Assert.AreEqual(baseline[0].TaskLoss, baseline[0].Loss, 1e-6);
        Assert.AreEqual(0.0, baseline[0].AlignmentLoss);
        Assert.IsTrue(sca[0].Loss > sca[0].TaskLoss, "the SCA total includes the coherence terms");
    }

    [TestMethod]
    [DataRow(32, DisplayName = "row-sparse embedding update (sampled softmax)")]
    [DataRow(0, DisplayName = "dense embedding update (full softmax)")]
    public void ResumedRunEndsWithTheSameWeightsAsAnUninterruptedRun(int sampledSoftmaxNegatives)
    {
        string directory = Path.Combine(Path.GetTempPath(), "coherence-resume-" + Guid.NewGuid().ToString("N"));
        try
        {
            var first = PlantedCorpus.TinyOptions(steps: 20);
            first.SampledSoftmaxNegatives = sampledSoftmaxNegatives;
            var uninterrupted = Train(first).GetEmbeddingMatrix();

            var options = PlantedCorpus.TinyOptions(steps: 20);
            options.SampledSoftmaxNegatives = sampledSoftmaxNegatives;
            options.CheckpointDirectory = directory;
            options.CheckpointInterval = 5;
            using var cancel = new CancellationTokenSource();
            var stopAt13 = new SynchronousProgress(p => { if (p.Step == 13) cancel.Cancel(); });
            Assert.ThrowsExactly<OperationCanceledException>(() => Train(options, stopAt13, cancel.Token));
            CollectionAssert.AreEquivalent(new[] { CheckpointStore.FileName(5), CheckpointStore.FileName(10) },
                Directory.GetFiles(directory).Select(Path.GetFileName).ToArray());

            var resumed = Train(options);
            Assert.AreEqual(10, resumed.Report.ResumedFromStep);
            CollectionAssert.AreEqual(uninterrupted, resumed.GetEmbeddingMatrix());
        }
        finally
        {
            if (Directory.Exists(directory))
                Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public void NonFiniteLossStopsWithAClearErrorAndKeepsTheLastGoodWeights()
    {
        CoherenceTrainer? trainer = null;
        float[]? afterStep4 = null;
        var capture = new SynchronousProgress(p => { if (p.Step == 4) afterStep4 = trainer!.CurrentEmbedding(); });
        var error = Assert.ThrowsExactly<CoherenceTrainingException>(() => Train(PlantedCorpus.TinyOptions(steps: 10), capture, default, t =>
        {
            trainer = t;
            t.InjectNonFiniteLoss = step => step == 5;
        }));
        Assert.AreEqual(5, error.Step);
        StringAssert.Contains(error.Message, "step 5");
        StringAssert.Contains(error.Message, "NaN");
        StringAssert.Contains(error.Message, "weights of step 4");
        Assert.IsNotNull(afterStep4);
        Assert.IsNotNull(error.LastGoodModel);
        CollectionAssert.AreEqual(afterStep4, error.LastGoodModel.GetEmbeddingMatrix());
    }

    [TestMethod]
    public void LibtorchFailureMidStepKeepsTheLastGoodWeightsAndACheckpointedRunResumesExactly()
    {
        string directory = Path.Combine(Path.GetTempPath(), "coherence-crash-" + Guid.NewGuid().ToString("N"));
        try
        {
            var uninterrupted = Train(PlantedCorpus.TinyOptions(steps: 12)).GetEmbeddingMatrix();
            var options = PlantedCorpus.TinyOptions(steps: 12);
            options.CheckpointDirectory = directory;
            options.CheckpointInterval = 100; // no regular checkpoint before the failure: the one left is written by the failure
            CoherenceTrainer? trainer = null;
            float[]? afterStep6 = null;
            var capture = new SynchronousProgress(p => { if (p.Step == 6) afterStep6 = trainer!.CurrentEmbedding(); });
            var error = Assert.ThrowsExactly<CoherenceTrainingException>(() => Train(options, capture, default, t =>
            {
                trainer = t;
                t.InjectNativeFailure = step => step == 7;
            }));
            Assert.AreEqual(7, error.Step);
            Assert.IsInstanceOfType<System.Runtime.InteropServices.ExternalException>(error.InnerException);
            StringAssert.Contains(error.Message, "Training failed at step 7");
            StringAssert.Contains(error.Message, "weights of step 6");
            Assert.IsNotNull(error.LastGoodModel);
            CollectionAssert.AreEqual(afterStep6, error.LastGoodModel.GetEmbeddingMatrix());
            CollectionAssert.AreEqual(new[] { CheckpointStore.FileName(6) }, Directory.GetFiles(directory).Select(Path.GetFileName).ToArray());

            var resumed = Train(options);
            Assert.AreEqual(6, resumed.Report.ResumedFromStep);
            CollectionAssert.AreEqual(uninterrupted, resumed.GetEmbeddingMatrix());
        }
        finally
        {
            if (Directory.Exists(directory))
                Directory.Delete(directory, recursive: true);
        }
    }

    [TestMethod]
    public void AStepFailureWhoseRescueCheckpointCannotBeWrittenStillCarriesTheModel() => TempFolder.Use("coherence-rescue", directory =>
    {
        var options = PlantedCorpus.TinyOptions(steps: 12);
        options.CheckpointDirectory = directory;
        options.CheckpointInterval = 100;
        // The folder disappears after step 6 (a removed drive, a cleanup job); step 7 then fails inside libtorch.
        var removeFolder = new SynchronousProgress(p => { if (p.Step == 6 && Directory.Exists(directory)) Directory.Delete(directory, recursive: true); });
        // Before: the rescue save's DirectoryNotFoundException escaped Fit instead of the step's failure and its model.
        var error = Assert.ThrowsExactly<CoherenceTrainingException>(() => Train(options, removeFolder, default, t => t.InjectNativeFailure = step => step == 7));
        Assert.AreEqual(7, error.Step);
        Assert.IsInstanceOfType<System.Runtime.InteropServices.ExternalException>(error.InnerException, "the step's own failure is reported");
        StringAssert.Contains(error.Message, "weights of step 6");
        StringAssert.Contains(error.Message, "saving it as a checkpoint failed too (DirectoryNotFoundException");
        Assert.IsNotNull(error.LastGoodModel);
    });

    [TestMethod]
    [DataRow(0, 32, DisplayName = "static, row-sparse")]
    [DataRow(2, 32, DisplayName = "2 layers, row-sparse")]
    [DataRow(0, 0, DisplayName = "static, dense (full softmax)")]
    public void LiveTensorCountStaysFlatAcrossSteps(int layers, int sampledSoftmaxNegatives)
    {
        var counts = new List<long>();
        var probe = new SynchronousProgress(p => { if (p.Step > 2 && p.Step < p.TotalSteps) counts.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount); });
        var options = PlantedCorpus.TinyOptions(steps: 30);
        options.Layers = layers;
        options.Heads = 2;
        options.SampledSoftmaxNegatives = sampledSoftmaxNegatives;
        Train(options, probe);
        Assert.IsTrue(counts.Count >= 20);
        Assert.AreEqual(counts[0], counts[^1], $"live tensors went from {counts[0]} to {counts[^1]}");
    }

    [TestMethod]
    [DataRow(true, DisplayName = "host indexing")]
    [DataRow(false, DisplayName = "device indexing")]
    public void PhaseTimesNameEveryPartOfTheStepInOrderAndLeaveTheModelUnchanged(bool hostIndexing)
    {
        var options = PlantedCorpus.TinyOptions(steps: 6);
        var phases = new StepPhaseTimes();
        var timed = Train(options, configure: t => { t.HostIndexing = hostIndexing; t.PhaseTimes = phases; }).GetEmbeddingMatrix();
        var plain = Train(options, configure: t => t.HostIndexing = hostIndexing).GetEmbeddingMatrix();
        CollectionAssert.AreEqual(plain, timed, "timing the phases must not change what the step computes");
        string[] expected =
        [
            "draws (host)", "ids, alignment rows and mask", "gather and catch up rows", "forward: language model",
            "forward: alignment", "forward: uniformity", "backward", "clip and finite check", "update",
        ];
        var medians = phases.Medians(skip: 1);
        CollectionAssert.AreEqual(expected, medians.Select(p => p.Phase).ToArray());
        Assert.IsTrue(medians.All(p => p.MedianSeconds >= 0 && double.IsFinite(p.MedianSeconds)), "a median is a duration");
    }
}
