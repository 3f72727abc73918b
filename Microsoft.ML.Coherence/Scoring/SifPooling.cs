using Microsoft.ML.Coherence.Corpus;
using Microsoft.ML.Coherence.Modules;
using Microsoft.ML.Coherence.Training;

namespace Microsoft.ML.Coherence.Scoring;

/// <summary>
/// What <see cref="CoherencePooling.Sif"/> needs besides the encoder: the weight a / (a + p(w)) of every token, from the
/// training split's unigram frequencies, and the common component, the first principal direction (uncentred, as in
/// Arora et al. 2017) of the weighted means of a sample of training documents. Both go into the exported graph.
/// </summary>
internal static class SifPooling
{
    /// <summary>The smoothing a of a / (a + p(w)).</summary>
    public const double Smoothing = 1e-3;

    private const int MaxStaticDocuments = 20_000;
    private const int MaxTransformerDocuments = 2_000;
    private const int PowerIterations = 100;

    /// <summary>The encoder with SIF's token weights and common component filled in.</summary>
    public static CoherenceEncoderWeights Fit(CoherenceEncoderWeights weights, ReadOnlySpan<long> frequencies, TokenCorpus train)
    {
        var tokenWeights = TokenWeights(frequencies);
        if (weights.HasSubwords && tokenWeights.Length > 0)
            tokenWeights[0] = 1f; // id 0 then stands for words outside the vocabulary, rarer than any in it: a / (a + ~0)
        // The training documents hold ids only, so the common component is estimated from their vocabulary words.
        var withWeights = weights.WithSif(tokenWeights, []);
        int limit = weights.Layers == 0 ? MaxStaticDocuments : MaxTransformerDocuments;
        int every = Math.Max(1, (int)Math.Ceiling(train.DocumentCount / (double)limit));
        var pooled = new List<float[]>();
        for (int i = 0; i < train.DocumentCount; i += every)
        {
            var ids = train.Document(i);
            if (!ids.IsEmpty)
                pooled.Add(ReferenceEncoder.Encode(withWeights, CoherencePooling.Sif, ids));
        }
        return weights.WithSif(tokenWeights, FirstPrincipalDirection(pooled, weights.Dimension));
    }

    /// <summary>a / (a + p(w)) for every id, p(w) = count(w) / total count.</summary>
    public static float[] TokenWeights(ReadOnlySpan<long> frequencies)
    {
        double total = 0;
        foreach (long f in frequencies)
            total += f;
        var result = new float[frequencies.Length];
        for (int i = 0; i < result.Length; i++)
            result[i] = (float)(Smoothing / (Smoothing + (total > 0 ? frequencies[i] / total : 0)));
        return result;
    }

    /// <summary>
    /// The unit top eigenvector of Σ v vᵀ by power iteration (deterministic start), or an empty array when the vectors
    /// span nothing (no documents, or all zero).
    /// </summary>
    public static float[] FirstPrincipalDirection(IReadOnlyList<float[]> vectors, int dimension)
    {
        var moment = new double[dimension * dimension];
        foreach (var v in vectors)
        {
            for (int i = 0; i < dimension; i++)
            {
                for (int j = 0; j < dimension; j++)
                    moment[i * dimension + j] += (double)v[i] * v[j];
            }
        }
        var x = new double[dimension];
        for (int i = 0; i < dimension; i++)
            x[i] = 1.0 + 0.01 * i; // not orthogonal to a direction with all-positive weight
        for (int iteration = 0; iteration < PowerIterations; iteration++)
        {
            var y = new double[dimension];
            for (int i = 0; i < dimension; i++)
            {
                double sum = 0;
                for (int j = 0; j < dimension; j++)
                    sum += moment[i * dimension + j] * x[j];
                y[i] = sum;
            }
            double norm = Math.Sqrt(y.Sum(value => value * value));
            if (!(norm > 1e-30))
                return [];
            for (int i = 0; i < dimension; i++)
                x[i] = y[i] / norm;
        }
        return x.Select(value => (float)value).ToArray();
    }
}
