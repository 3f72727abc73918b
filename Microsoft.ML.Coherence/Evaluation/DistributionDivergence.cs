using Microsoft.ML.Coherence.Internal;
namespace Microsoft.ML.Coherence.Evaluation;

/// <summary>
/// How far the embedding's neighbour distribution is from the statistical one, per token:
/// KL(P_i || Q_i) and Jensen-Shannon(P_i, Q_i) in nats, where P_i is the PPMI target distribution
/// and Q_i the softmax of cos(e_i, e_j) / tau over the same neighbours j.
/// </summary>
/// <remarks>
/// This is the alignment loss's KL restricted to the statistical neighbours: the training loss also
/// puts sampled negatives into Q_i's softmax, so its values are larger; this metric has no
/// randomness. P_i is renormalised over its non-padding slots (probability &gt; 0). A neighbour with a
/// zero vector has cosine 0. Token 0, tokens with no neighbours and tokens with a zero vector get
/// NaN and are left out of the means. JS is bounded by ln 2.
/// </remarks>
internal sealed class DistributionDivergence
{
    /// <summary>Softmax temperature used when none is given (0.1). Pass the alignment loss's own tau so the two agree.</summary>
    public const double DefaultTemperature = 0.1;

    private DistributionDivergence(float[] kullbackLeibler, float[] jensenShannon)
    {
        KullbackLeibler = kullbackLeibler;
        JensenShannon = jensenShannon;
        var kl = DistributionSummary.Of(kullbackLeibler);
        var js = DistributionSummary.Of(jensenShannon);
        MeanKullbackLeibler = kl.Mean;
        MeanJensenShannon = js.Mean;
        Count = kl.Count;
    }

    /// <summary>KL(P_i || Q_i) per token id, length n, NaN where undefined.</summary>
    public float[] KullbackLeibler { get; }

    /// <summary>JS(P_i, Q_i) per token id, length n, NaN where undefined.</summary>
    public float[] JensenShannon { get; }

    /// <summary>Mean of <see cref="KullbackLeibler"/> over the tokens where it is defined (NaN if none).</summary>
    public double MeanKullbackLeibler { get; }

    /// <summary>Mean of <see cref="JensenShannon"/> over the tokens where it is defined (NaN if none).</summary>
    public double MeanJensenShannon { get; }

    /// <summary>Number of tokens with a defined divergence.</summary>
    public int Count { get; }

    /// <summary>Computes both divergences for every token; parallel over tokens.</summary>
    /// <param name="embeddings">E, [n, d].</param>
    /// <param name="neighbors">The statistical field's neighbours for the same n tokens.</param>
    /// <param name="temperature">Softmax temperature tau, positive and finite.</param>
    public static DistributionDivergence Compute(EmbeddingMatrix embeddings, StatisticalNeighbors neighbors, double temperature = DefaultTemperature)
    {
        embeddings.ThrowIfEmpty(nameof(embeddings));
        neighbors.ThrowIfIncompatible(embeddings, nameof(neighbors));
        if (!(temperature > 0) || !double.IsFinite(temperature))
        {
            CoherenceThrow.ValueOutOfRange(nameof(temperature), temperature, "a positive finite number");
        }

        var n = embeddings.Rows;
        var kl = new float[n];
        var js = new float[n];
        kl.AsSpan().Fill(float.NaN);
        js.AsSpan().Fill(float.NaN);
        var e = embeddings;
        var nb = neighbors;
        var squaredNorms = VectorMath.SquaredNorms(embeddings);
        Parallel.For(
            1,
            n,
            () => (P: new double[nb.K], Q: new double[nb.K]),
            (i, _, buffers) =>
            {
                var m = Distributions(e, nb, squaredNorms, i, temperature, buffers.P, buffers.Q);
                if (m > 0)
                {
                    var p = buffers.P.AsSpan(0, m);
                    var q = buffers.Q.AsSpan(0, m);
                    kl[i] = (float)KullbackLeiblerDivergence(p, q);
                    js[i] = (float)JensenShannonDivergence(p, q);
                }

                return buffers;
            },
            _ => { });
        return new DistributionDivergence(kl, js);
    }

    /// <summary>KL(p || q) = sum p log(p / q) in nats; terms with p = 0 are 0, and q = 0 where p &gt; 0 gives +infinity.</summary>
    /// <param name="p">A probability distribution.</param>
    /// <param name="q">A probability distribution of the same length.</param>
    public static double KullbackLeiblerDivergence(ReadOnlySpan<double> p, ReadOnlySpan<double> q)
    {
        CoherenceThrow.IfLengthDiffers(q.Length, p.Length, nameof(q), "the same support as p");
        double sum = 0;
        for (var k = 0; k < p.Length; k++)
        {
            if (p[k] > 0)
            {
                sum += q[k] > 0 ? p[k] * Math.Log(p[k] / q[k]) : double.PositiveInfinity;
            }
        }

        return Math.Max(sum, 0);
    }

    /// <summary>JS(p, q) = (KL(p || m) + KL(q || m)) / 2 with m = (p + q) / 2, in nats, in [0, ln 2].</summary>
    /// <param name="p">A probability distribution.</param>
    /// <param name="q">A probability distribution of the same length.</param>
    public static double JensenShannonDivergence(ReadOnlySpan<double> p, ReadOnlySpan<double> q)
    {
        CoherenceThrow.IfLengthDiffers(q.Length, p.Length, nameof(q), "the same support as p");
        double sum = 0;
        for (var k = 0; k < p.Length; k++)
        {
            var m = (p[k] + q[k]) / 2;
            if (p[k] > 0)
            {
                sum += p[k] * Math.Log(p[k] / m);
            }

            if (q[k] > 0)
            {
                sum += q[k] * Math.Log(q[k] / m);
            }
        }

        return Math.Clamp(sum / 2, 0, Math.Log(2));
    }

    // Fills p[0..m) and q[0..m) for token i's valid neighbours; returns m (0 when undefined).
    private static int Distributions(EmbeddingMatrix embeddings, StatisticalNeighbors neighbors, double[] squaredNorms, int i, double temperature, double[] p, double[] q)
    {
        var ei = embeddings.Row(i);
        var normI = Math.Sqrt(squaredNorms[i]);
        if (normI == 0)
        {
            return 0;
        }

        var m = 0;
        double mass = 0;
        var maxLogit = double.NegativeInfinity;
        for (var s = i * neighbors.K; s < (i + 1) * neighbors.K; s++)
        {
            var j = neighbors.Neighbors[s];
            var probability = (double)neighbors.Probabilities[s];
            if (j < 0 || probability <= 0)
            {
                continue;
            }

            var normJ = Math.Sqrt(squaredNorms[j]);
            var cosine = normJ == 0 ? 0 : VectorMath.Dot(ei, embeddings.Row(j)) / (normI * normJ);
            p[m] = probability;
            q[m] = cosine / temperature;  // logit for now
            mass += probability;
            maxLogit = Math.Max(maxLogit, q[m]);
            m++;
        }

        if (m == 0)
        {
            return 0;
        }

        double partition = 0;
        for (var t = 0; t < m; t++)
        {
            p[t] /= mass;
            q[t] = Math.Exp(q[t] - maxLogit);
            partition += q[t];
        }

        for (var t = 0; t < m; t++)
        {
            q[t] /= partition;
        }

        return m;
    }
}
