namespace Microsoft.ML.Coherence.Tests.TestData;

/// <summary>
/// A synthetic corpus with planted structure: words in topic groups ("g3w7"), each sentence drawn
/// mostly from one group. Tokens of the same group should end up as statistical and embedding neighbours.
/// </summary>
internal static class PlantedCorpus
{
    public static string Word(int group, int index) => $"g{group}w{index}";

    public static int GroupOf(string word) => int.Parse(word[1..word.IndexOf('w')]);

    public static List<string> Generate(int groups, int wordsPerGroup, int sentences, int sentenceLength, double inGroupShare, int seed)
    {
        var random = new Random(seed);
        var result = new List<string>(sentences);
        for (int s = 0; s < sentences; s++)
        {
            int group = random.Next(groups);
            var words = new string[sentenceLength];
            for (int t = 0; t < sentenceLength; t++)
            {
                int g = random.NextDouble() < inGroupShare ? group : random.Next(groups);
                // Zipf-like within a group, so frequencies differ (rare and frequent words exist).
                int w = (int)Math.Min(wordsPerGroup - 1, Math.Floor(wordsPerGroup * Math.Pow(random.NextDouble(), 2)));
                words[t] = Word(g, w);
            }
            result.Add(string.Join(' ', words));
        }
        return result;
    }

    /// <summary>Small, fast settings for tests on the planted corpus.</summary>
    public static CoherenceEmbeddingOptions TinyOptions(int steps = 150) => new()
    {
        EmbeddingDimension = 16,
        ContextLength = 16,
        BatchSize = 16,
        Steps = steps,
        MinCount = 1,
        NeighborCount = 8,
        AnchorsPerStep = 64,
        CoherenceNegatives = 32,
        SampledSoftmaxNegatives = 32,
        EvaluationInterval = 0,
        LearningRate = 0.01f,
        Seed = 7,
    };
}
