using Microsoft.ML.Coherence.Modules;
using Microsoft.ML.Coherence.Scoring;

namespace Microsoft.ML.Coherence.Tests;

/// <summary>Small random encoders, vocabularies and texts shared by the scoring tests.</summary>
internal static class TestEncoders
{
    public const int VocabularySize = 50;
    public const int Dimension = 8;
    public const int Heads = 2;
    public const int ContextLength = 4;

    /// <summary>Words 1..V-1 are "w1".."w49"; these words are never in the vocabulary.</summary>
    public static readonly string[] UnknownWords = ["zzz", "qqq", "unknownword"];

    public static CoherenceEncoderWeights RandomWeights(int layers, int seed = 7, int vocabularySize = VocabularySize, int dimension = Dimension,
        int contextLength = ContextLength)
    {
        var random = new Random(seed);
        float[] Uniform(int count, float scale) => Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * 2) - 1) * scale).ToArray();
        float[] AroundOne(int count) => Enumerable.Range(0, count).Select(_ => 1f + (float)((random.NextDouble() * 2) - 1) * 0.2f).ToArray();

        var d = dimension;
        var embeddings = Uniform(vocabularySize * d, 1f);
        if (layers == 0)
        {
            return new CoherenceEncoderWeights
            {
                VocabularySize = vocabularySize,
                Dimension = d,
                Heads = Heads,
                ContextLength = contextLength,
                Embeddings = embeddings,
            };
        }

        var blocks = new List<CoherenceBlockWeights>();
        for (var i = 0; i < layers; i++)
        {
            blocks.Add(new CoherenceBlockWeights
            {
                Norm1Weight = AroundOne(d),
                Norm1Bias = Uniform(d, 0.1f),
                QkvWeight = Uniform(3 * d * d, 0.6f),
                QkvBias = Uniform(3 * d, 0.1f),
                OutWeight = Uniform(d * d, 0.4f),
                OutBias = Uniform(d, 0.1f),
                Norm2Weight = AroundOne(d),
                Norm2Bias = Uniform(d, 0.1f),
                Mlp1Weight = Uniform(4 * d * d, 0.5f),
                Mlp1Bias = Uniform(4 * d, 0.1f),
                Mlp2Weight = Uniform(4 * d * d, 0.3f),
                Mlp2Bias = Uniform(d, 0.1f),
            });
        }

        return new CoherenceEncoderWeights
        {
            VocabularySize = vocabularySize,
            Dimension = d,
            Heads = Heads,
            ContextLength = contextLength,
            Embeddings = embeddings,
            Positions = Uniform(contextLength * d, 0.5f),
            Blocks = blocks,
            FinalNormWeight = AroundOne(d),
            FinalNormBias = Uniform(d, 0.1f),
        };
    }

    public static string[] Vocabulary(int vocabularySize = VocabularySize) =>
        ["<unk>", .. Enumerable.Range(1, vocabularySize - 1).Select(i => $"w{i}")];

    /// <summary>Texts of 0, 1, 3, 4, 5 and 9 words, with unknown and upper-case words mixed in.</summary>
    public static readonly string[] Texts =
    [
        "",
        "w3",
        "W7 zzz w12",
        "w1 w2 w3 w4",
        "qqq w49 w10 w10 ZZZ",
        "w5 w6 unknownword w8 w9 w10 w11 zzz w13",
        "zzz qqq",
        "  w4   w5 ",
    ];

    /// <summary>The ids the scoring chain should see for a text: lower-cased, space-split, looked up.</summary>
    public static int[] Ids(string text, IReadOnlyList<string> vocabulary)
    {
        var index = vocabulary.Select((token, id) => (token, id)).Skip(1).ToDictionary(p => p.token, p => p.id);
        return text.ToLowerInvariant()
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(word => index.TryGetValue(word, out var id) ? id : 0)
            .ToArray();
    }

    public static void AssertClose(float[] expected, float[] actual, float tolerance, string message)
    {
        Assert.HasCount(expected.Length, actual, message);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.AreEqual(expected[i], actual[i], tolerance, $"{message}: element {i}");
        }
    }
}
