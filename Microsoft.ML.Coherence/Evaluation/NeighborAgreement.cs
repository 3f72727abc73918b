using Microsoft.ML.Coherence.Internal;
namespace Microsoft.ML.Coherence.Evaluation;

/// <summary>
/// Agreement between a token's nearest embedding neighbours and its statistical (PPMI) neighbours:
/// overlap@k = |A ∩ B| / |B|, with A the k nearest tokens by cosine and B the token's top-k
/// statistical neighbours.
/// </summary>
/// <remarks>
/// A: brute-force cosine k-nearest neighbours over all tokens as candidates, leaving out the token
/// itself, the unknown token 0 and zero vectors; ties go to the lower id. B: the token's statistical
/// neighbours with positive probability, the k most probable (ties to the earlier slot), leaving out
/// 0 and the token itself; |B| can be below k. Tokens with empty B, a zero vector, or not in the
/// query sample get NaN; summarise with <see cref="BucketedSummary.Of"/> for the overall and the
/// per-bucket (rare-word) means. Parallel over query tokens; O(queries x n x d).
/// </remarks>
internal static class NeighborAgreement
{
    /// <summary>Overlap@k for every token 1..n-1 (exhaustive; O(n^2 d)).</summary>
    /// <param name="embeddings">E, [n, d].</param>
    /// <param name="neighbors">The statistical field's neighbours for the same n tokens.</param>
    /// <param name="k">Neighbours compared, at least 1.</param>
    /// <returns>Overlap per token id, length n, in [0, 1] or NaN (see remarks).</returns>
    public static float[] Compute(EmbeddingMatrix embeddings, StatisticalNeighbors neighbors, int k) =>
        Compute(embeddings, neighbors, k, querySample: null, seed: 0);

    /// <summary>
    /// Overlap@k for a seeded random sample of query tokens (all tokens remain candidates), or for every
    /// token when <paramref name="querySample"/> is null or at least n - 1.
    /// </summary>
    /// <param name="embeddings">E, [n, d].</param>
    /// <param name="neighbors">The statistical field's neighbours for the same n tokens.</param>
    /// <param name="k">Neighbours compared, at least 1.</param>
    /// <param name="querySample">How many query tokens to draw without replacement from 1..n-1; null for all.</param>
    /// <param name="seed">Seed of the <see cref="Random"/> that draws the sample.</param>
    /// <returns>Overlap per token id, length n; NaN for tokens not queried or skipped.</returns>
    public static float[] Compute(EmbeddingMatrix embeddings, StatisticalNeighbors neighbors, int k, int? querySample, int seed)
    {
        embeddings.ThrowIfEmpty(nameof(embeddings));
        neighbors.ThrowIfIncompatible(embeddings, nameof(neighbors));
        if (k < 1)
        {
            CoherenceThrow.ValueOutOfRange(nameof(k), k, "at least 1");
        }

        if (querySample is < 1)
        {
            CoherenceThrow.ValueOutOfRange(nameof(querySample), querySample, "at least 1, or null for every token");
        }

        var n = embeddings.Rows;
        var result = new float[n];
        result.AsSpan().Fill(float.NaN);
        if (n < 2)
        {
            return result;
        }

        var queries = SampleQueries(n, querySample, seed);

        var d = embeddings.Dimension;
        var (unit, isZero) = UnitRows(embeddings);
        var nb = neighbors;
        Parallel.For(
            0,
            queries.Length,
            () => (Ids: new int[k], Scores: new float[k]),
            (q, _, buffers) =>
            {
                var i = queries[q];
                result[i] = OverlapOf(i, unit, isZero, d, nb, k, buffers.Ids, buffers.Scores);
                return buffers;
            },
            _ => { });
        return result;
    }

    /// <summary>Unit rows, [n, d], computed once; zero rows stay zero and are never candidates.</summary>
    private static (float[] Unit, bool[] IsZero) UnitRows(EmbeddingMatrix e)
    {
        int n = e.Rows, d = e.Dimension;
        var unit = new float[n * d];
        var isZero = new bool[n];
        Parallel.For(0, n, i =>
        {
            var row = e.Row(i);
            var norm = Math.Sqrt(VectorMath.DotDouble(row, row));
            isZero[i] = norm == 0;
            if (!isZero[i])
            {
                for (var c = 0; c < d; c++)
                {
                    unit[(i * d) + c] = (float)(row[c] / norm);
                }
            }
        });
        return (unit, isZero);
    }

    private static int[] SampleQueries(int n, int? querySample, int seed)
    {
        var all = Enumerable.Range(1, n - 1).ToArray();
        if (querySample is not { } m || m >= all.Length)
        {
            return all;
        }

        // Partial Fisher-Yates: the first m entries are a uniform sample without replacement.
        var random = new Random(seed);
        for (var t = 0; t < m; t++)
        {
            var swap = random.Next(t, all.Length);
            (all[t], all[swap]) = (all[swap], all[t]);
        }

        var sample = all.AsSpan(0, m).ToArray();
        Array.Sort(sample);
        return sample;
    }

    private static float OverlapOf(int i, float[] unit, bool[] isZero, int d, StatisticalNeighbors neighbors, int k, int[] ids, float[] scores)
    {
        if (isZero[i])
        {
            return float.NaN;
        }

        var statistical = TopStatistical(i, neighbors, k);
        if (statistical.Count == 0)
        {
            return float.NaN;
        }

        var found = TopByCosine(i, unit, isZero, d, k, ids, scores);
        var hits = 0;
        for (var a = 0; a < found; a++)
        {
            if (statistical.Contains(ids[a]))
            {
                hits++;
            }
        }

        return (float)hits / statistical.Count;
    }

    /// <summary>
    /// The k nearest rows to row i by cosine into <paramref name="ids"/> and <paramref name="scores"/>, kept sorted descending
    /// (a later id must beat strictly, so ties go to the lower id); returns how many were found.
    /// </summary>
    private static int TopByCosine(int i, float[] unit, bool[] isZero, int d, int k, int[] ids, float[] scores)
    {
        var found = 0;
        var query = new ReadOnlySpan<float>(unit, i * d, d);
        var n = unit.Length / d;
        for (var j = 1; j < n; j++)
        {
            if (j == i || isZero[j])
            {
                continue;
            }

            var score = VectorMath.Dot(query, new ReadOnlySpan<float>(unit, j * d, d));
            if (found == k && score <= scores[k - 1])
            {
                continue;
            }

            var slot = found < k ? found++ : k - 1;
            while (slot > 0 && scores[slot - 1] < score)
            {
                scores[slot] = scores[slot - 1];
                ids[slot] = ids[slot - 1];
                slot--;
            }

            scores[slot] = score;
            ids[slot] = j;
        }

        return found;
    }

    private static HashSet<int> TopStatistical(int i, StatisticalNeighbors neighbors, int k)
    {
        var candidates = new List<(int Id, float P, int Slot)>(neighbors.K);
        for (var s = 0; s < neighbors.K; s++)
        {
            var slot = (i * neighbors.K) + s;
            var j = neighbors.Neighbors[slot];
            var p = neighbors.Probabilities[slot];
            if (j < 0 || p <= 0)
            {
                continue;
            }

            if (j != 0 && j != i)
            {
                candidates.Add((j, p, s));
            }
        }

        candidates.Sort((x, y) => x.P != y.P ? y.P.CompareTo(x.P) : x.Slot.CompareTo(y.Slot));
        var set = new HashSet<int>();
        foreach (var c in candidates)
        {
            if (set.Count == k)
            {
                break;
            }

            set.Add(c.Id);
        }

        return set;
    }
}
