using Microsoft.ML.Coherence.Tests.Oracle;
using Microsoft.ML.Coherence.Corpus;
using Microsoft.ML.Coherence.Scoring;
using Microsoft.ML.Coherence.Tests.TestData;
using Microsoft.ML.Coherence.Text;
using Microsoft.ML.Coherence.Training;
using Microsoft.ML.Data;
using TorchSharp;

namespace Microsoft.ML.Coherence.Tests;

/// <summary>
/// Ties the trained TorchSharp model to what ships: for a 2-layer model trained 50 steps, the mean-pooled hidden states of
/// the TorchSharp module, the C# reference encoder over the exported weights, and the saved-and-reloaded ML.NET zip agree.
/// </summary>
[TestClass]
public sealed class TrainedEncoderParityTests
{
    private static readonly string[] Texts =
    [
        "the red fox jumps over the lazy dog", "a dog and a fox", "blue birds sing in the morning light",
        "the lazy dog sleeps", "morning light over the red hills", "unknownword zzz the fox",
    ];

    [TestMethod]
    public void TwoLayerModelGivesTheSameFeaturesFromTorchSharpTheReferenceEncoderAndTheLoadedZip()
    {
        var corpus = PlantedCorpus.Generate(groups: 4, wordsPerGroup: 8, sentences: 200, sentenceLength: 10, inGroupShare: 0.9, seed: 11)
            .Concat(Enumerable.Repeat(string.Join(' ', Texts), 20)).ToList();
        var options = PlantedCorpus.TinyOptions(steps: 50);
        options.Layers = 2;
        options.Heads = 2;
        var ml = new MLContext(seed: 1);
        var tokenizer = new CoherenceTokenizer(ml);
        var rows = tokenizer.Tokenize(Texts).ToArray();

        CoherenceTrainer? trainer = null;
        Vocabulary? vocabulary = null;
        List<float[]>? torchFeatures = null;
        var capture = new SynchronousProgress(p =>
        {
            if (p.Step != p.TotalSteps)
                return;
            // The module is alive only during Fit: pool its hidden states at the last step, after the update.
            vocabulary = Vocabulary.Build(tokenizer.Tokenize(corpus).Where((_, i) => !TokenCorpus.HeldOutRule(options.HeldOutFraction, options.Seed!.Value)(i)),
                options.MinCount, options.MaxVocabularySize);
            torchFeatures = rows.Select(tokens => TorchMean(trainer!, vocabulary.Encode(tokens))).ToList();
        });
        var model = CoherenceEmbeddingEngine.Train(ml, () => tokenizer.Tokenize(corpus), options, capture, default, t => trainer = t);
        Assert.IsNotNull(torchFeatures);
        CollectionAssert.AreEqual(model.Vocabulary.Tokens.ToArray(), vocabulary!.Tokens.ToArray(), "the test rebuilt the training vocabulary");

        var stage = CoherenceEmbeddingTransformer.FromModel(ml, model, "Features", "Text");
        var data = ml.Data.LoadFromEnumerable(Texts.Select(t => new SampleData.Row { Text = t }));
        using var stream = new MemoryStream();
        ml.Model.Save(stage, data.Schema, stream);
        stream.Position = 0;
        var loaded = new MLContext(seed: 2).Model.Load(stream, out _);
        var zipFeatures = loaded.Transform(data).GetColumn<float[]>("Features").ToArray();

        for (int r = 0; r < Texts.Length; r++)
        {
            var ids = model.Vocabulary.Encode(rows[r]);
            Assert.IsTrue(ids.Count(id => id != 0) >= 2, $"row {r} needs known words");
            var reference = ReferenceEncoder.Encode(model.Weights, CoherencePooling.Mean, ids);
            TestEncoders.AssertClose(torchFeatures![r], reference, 1e-5f, $"TorchSharp vs reference, row {r}");
            TestEncoders.AssertClose(ReferenceEncoder.Features(model.Weights, CoherencePooling.Mean, ids), zipFeatures[r], 1e-5f,
                $"reference vs loaded zip (unit L2 norm), row {r}");
        }
    }

    private static float[] TorchMean(CoherenceTrainer trainer, int[] ids)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        trainer.Model.eval();
        var hidden = trainer.Model.forward(torch.tensor(ids.Select(i => (long)i).ToArray(), [1, ids.Length])); // [1, n, d]
        trainer.Model.train();
        var values = hidden.reshape(-1).data<float>().ToArray();
        int d = trainer.Model.Dimension, known = 0;
        var mean = new float[d];
        for (int t = 0; t < ids.Length; t++)
        {
            if (ids[t] == 0)
                continue;
            known++;
            for (int k = 0; k < d; k++)
                mean[k] += values[t * d + k];
        }
        for (int k = 0; k < d; k++)
            mean[k] /= Math.Max(known, 1);
        return mean;
    }
}
