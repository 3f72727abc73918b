using Microsoft.ML.Coherence.Corpus;
using Microsoft.ML.Coherence.Modules;

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
    /// <param name="weights">The trained encoder.</param>
    /// <param name="frequencies">The training split's frequency of each id.</param>
    /// <param name="train">The training documents.</param>
    /// <param name="transformerStates">With Transformer layers: the encoder's states [n, d] of a document's ids, computed by the
    /// training path (the trained model, in chunks of the context length as the graph scores). Static mode reads the table.</param>
    public static CoherenceEncoderWeights Fit(CoherenceEncoderWeights weights, ReadOnlySpan<long> frequencies, TokenCorpus train,
        Func<int[], float[]>? transformerStates = null)
    {
        if (weights.Layers > 0 && transformerStates is null)
            throw new ArgumentNullException(nameof(transformerStates), "An encoder with Transformer layers needs its states computed.");
        var tokenWeights = TokenWeights(frequencies);
        if (weights.HasSubwords && tokenWeights.Length > 0)
            tokenWeights[0] = 1f; // id 0 then stands for words outside the vocabulary, rarer than any in it: a / (a + ~0)
        // The training documents hold ids only, so the common component is estimated from their vocabulary words.
        int limit = weights.Layers == 0 ? MaxStaticDocuments : MaxTransformerDocuments;
        int every = Math.Max(1, (int)Math.Ceiling(train.DocumentCount / (double)limit));
        var pooled = new List<float[]>();
        for (int i = 0; i < train.DocumentCount; i += every)
        {
            var ids = train.Document(i).ToArray();
            if (ids.Length > 0)
                pooled.Add(WeightedMean(weights.Layers == 0 ? TableRows(weights, ids) : transformerStates!(ids), ids, tokenWeights, weights.Dimension));
        }
        return weights.WithSif(tokenWeights, FirstPrincipalDirection(pooled, weights.Dimension));
    }

    // Static mode's states: the rows of the table.
    private static float[] TableRows(CoherenceEncoderWeights weights, int[] ids)
    {
        int d = weights.Dimension;
        var states = new float[ids.Length * d];
        for (int t = 0; t < ids.Length; t++)
            weights.Embeddings.AsSpan(ids[t] * d, d).CopyTo(states.AsSpan(t * d, d));
        return states;
    }

    // SIF's pooled vector before the common component comes off: Σ w(id) h over the known ids, divided by their count.
    private static float[] WeightedMean(float[] states, int[] ids, float[] tokenWeights, int dimension)
    {
        var mean = new float[dimension];
        int count = 0;
        for (int t = 0; t < ids.Length; t++)
        {
            if (ids[t] == 0)
                continue;
            float weight = tokenWeights[ids[t]];
            for (int i = 0; i < dimension; i++)
                mean[i] += weight * states[t * dimension + i];
            count++;
        }
        for (int i = 0; i < dimension; i++)
            mean[i] /= Math.Max(count, 1);
        return mean;
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
