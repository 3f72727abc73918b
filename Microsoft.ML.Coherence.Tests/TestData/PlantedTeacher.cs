using Microsoft.Extensions.AI;

namespace Microsoft.ML.Coherence.Tests.TestData;

/// <summary>
/// A deterministic teacher written for the tests: a text's vector is the mean of its words' vectors, and a word's vector is
/// a small hashed noise vector plus, for a word named <c>cue{g}x{i}</c>, the basis direction g. So the teacher knows which
/// group every cue word belongs to, which a corpus where cue words co-occur only with random filler cannot tell.
/// Counts its calls and texts; optional hooks make it fail or wait, for the bad-teacher and cancellation tests.
/// </summary>
internal sealed class PlantedTeacher : IEmbeddingGenerator<string, Embedding<float>>
{
    public const int Dimension = 12;

    public int Calls { get; private set; }

    public int Texts { get; private set; }

    /// <summary>Replaces the answer of a call (the texts of the call → what to return); null answers normally.</summary>
    public Func<string[], IList<Embedding<float>>?>? Answer { get; set; }

    /// <summary>Runs before each call answers (to wait or throw).</summary>
    public Action<int, CancellationToken>? BeforeCall { get; set; }

    public static float[] Vector(string text)
    {
        var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var sum = new float[Dimension];
        foreach (var word in words)
        {
            var w = WordVector(word);
            for (int j = 0; j < Dimension; j++)
                sum[j] += w[j] / Math.Max(words.Length, 1);
        }
        return sum;
    }

    private static float[] WordVector(string word)
    {
        var random = new Random(StableHash(word));
        var vector = new float[Dimension];
        for (int j = 0; j < Dimension; j++)
            vector[j] = (float)(0.2 * (random.NextDouble() - 0.5));
        if (word.StartsWith("cue", StringComparison.Ordinal) && word.IndexOf('x') is > 3 and var x && int.TryParse(word.AsSpan(3, x - 3), out int group))
            vector[group % Dimension] += 1f;
        return vector;
    }

    private static int StableHash(string text)
    {
        unchecked
        {
            int hash = (int)2166136261;
            foreach (char c in text)
                hash = (hash ^ c) * 16777619;
            return hash & 0x7FFFFFFF;
        }
    }

    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var texts = values.ToArray();
        Calls++;
        Texts += texts.Length;
        BeforeCall?.Invoke(Calls, cancellationToken);
        var answer = Answer?.Invoke(texts) ?? texts.Select(t => new Embedding<float>(Vector(t))).ToList();
        return Task.FromResult(new GeneratedEmbeddings<Embedding<float>>(answer));
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }
}
