using Microsoft.ML.Coherence.Evaluation;
using Microsoft.ML.Coherence.Tests.TestData;
using Microsoft.ML.Coherence.Text;
using Microsoft.ML.Coherence.Training;

namespace Microsoft.ML.Coherence.Tests;

[TestClass]
public sealed class CoherenceEmbeddingEngineTests
{
    private static readonly List<string> Planted = PlantedCorpus.Generate(groups: 8, wordsPerGroup: 12, sentences: 600, sentenceLength: 12, inGroupShare: 0.9, seed: 11);

    internal static CoherenceEmbeddingModel Train(IEnumerable<string?> corpus, CoherenceEmbeddingOptions options,
        IProgress<CoherenceTrainingProgress>? progress = null, CancellationToken token = default, Action<CoherenceTrainer>? configure = null)
    {
        var ml = new MLContext(seed: 1);
        var tokenizer = new CoherenceTokenizer(ml);
        return CoherenceEmbeddingEngine.Train(ml, () => tokenizer.Tokenize(corpus), options, progress, token, configure);
    }

    private static (double Coherence, double Agreement, double EffectiveRank) Measure(CoherenceEmbeddingModel model)
    {
        var matrix = new EmbeddingMatrix(model.GetEmbeddingMatrix(), model.Dimension);
        var neighbors = model.Field.ToNeighbors();
        double coherence = DistributionSummary.Of(CoherenceScores.Compute(matrix, neighbors)).Mean;
        Console.WriteLine($"perplexity {model.Report.FinalHeldOutPerplexity:F2}");
        double agreement = DistributionSummary.Of(NeighborAgreement.Compute(matrix, neighbors, 5)).Mean;
        return (coherence, agreement, EmbeddingMetrics.EffectiveRank(matrix.WithoutUnknown()));
    }

    [TestMethod]
    [DataRow(true, DisplayName = "tied output table")]
    [DataRow(false, DisplayName = "untied output table")]
    public void CoherenceAlignmentBeatsBaselineOnPlantedTopicsWithoutCollapse(bool tieOutput)
    {
        var sca = PlantedCorpus.TinyOptions();
        sca.TieOutputEmbedding = tieOutput;
        var baseline = sca.AsBaseline();

        var (scaCoherence, scaAgreement, scaRank) = Measure(Train(Planted, sca));
        var (baseCoherence, baseAgreement, _) = Measure(Train(Planted, baseline));
        Console.WriteLine($"tied {tieOutput}: coherence sca {scaCoherence:F4} base {baseCoherence:F4}; agreement@5 sca {scaAgreement:F4} base {baseAgreement:F4}; effective rank sca {scaRank:F2} of d=16");

        // Measured at this seed (held-out documents outside the vocabulary): next token, coherence 0.964 vs 0.946,
        // agreement@5 0.677 vs 0.502, effective rank 10.2 of 16; centre word, coherence 0.964 vs 0.949, agreement@5
        // 0.658 vs 0.502, effective rank 10.1; next token with an untied output table, coherence 0.963 vs 0.942, agreement@5
        // 0.700 vs 0.519, effective rank 10.2. With subwords (4,096 buckets) the words' shared spelling ("g3w1", "g3w7") plants
        // the groups for the baseline too: coherence 0.976 vs 0.973, agreement@5 0.665 vs 0.483, so that case is not a row here. The raw coherence score rewards collapse (see docs/method.md): its margin is small.
        Assert.IsTrue(scaCoherence > baseCoherence + 0.01, $"mean coherence: SCA {scaCoherence:F4} vs baseline {baseCoherence:F4}; margin 0.01");
        Assert.IsTrue(scaAgreement > baseAgreement + 0.10, $"neighbour agreement@5: SCA {scaAgreement:F4} vs baseline {baseAgreement:F4}; margin 0.10");
        Assert.IsTrue(scaRank > 0.5 * sca.EmbeddingDimension, $"effective rank {scaRank:F2} must stay above d/2 = {sca.EmbeddingDimension / 2}");
    }
}
