using Microsoft.ML.Coherence.Evaluation;

namespace Microsoft.ML.Coherence.Distillation;

/// <summary>
/// The starting table from the teacher's word vectors (Model2Vec's recipe): centre the vectors of the vocabulary's words,
/// project them on their top principal components (as many as the embedding dimension allows), and scale the table so its
/// mean row norm is <see cref="RowNorm"/>. Row 0 (the unknown token, which pooling skips) is 0. When the embedding dimension
/// exceeds the teacher's, the extra columns start as small seeded noise (columns of zeros would stay zero under training:
/// every gradient into them is 0).
/// </summary>
/// <param name="Table">[V, d] row-major: the initial embedding table.</param>
/// <param name="Components">[k, t] row-major: the k = min(d, t) principal directions, largest variance first, each with its
/// largest-magnitude entry positive (a fixed sign, so the same vectors give the same table).</param>
/// <param name="Mean">[t]: the mean teacher word vector.</param>
/// <param name="Scale">The factor applied to the projections.</param>
/// <param name="Dimension">d, the table's dimension.</param>
/// <param name="TeacherDimension">t, the teacher's.</param>
internal sealed record VocabularyDistillation(float[] Table, float[] Components, float[] Mean, float Scale, int Dimension, int TeacherDimension)
{
    /// <summary>The mean row norm of the distilled table. Chosen on validation splits (docs/results/teacher); the random
    /// table's is about 0.02·√d.</summary>
    internal static float RowNorm { get; set; } = 1.0f;

    /// <summary>The spread of the seeded noise in columns the teacher's dimension cannot fill (that of the random table).</summary>
    private const double NoiseScale = 0.02;

    /// <summary>The principal components that explain this share of the teacher's variance (reported).</summary>
    public double ExplainedVariance { get; init; }

    /// <param name="words">The teacher's vectors of vocabulary ids 1..V-1, in id order.</param>
    /// <param name="dimension">d, the embedding dimension.</param>
    /// <param name="seed">Seeds the noise of the columns beyond the teacher's dimension.</param>
    public static VocabularyDistillation Fit(TeacherVectors words, int dimension, int seed)
    {
        int n = words.Count, t = words.Dimension, k = Math.Min(dimension, t);
        var mean = new double[t];
        for (int i = 0; i < n; i++)
        {
            var row = words.Row(i);
            for (int j = 0; j < t; j++)
                mean[j] += row[j];
        }
        for (int j = 0; j < t; j++)
            mean[j] /= Math.Max(n, 1);
        var (values, vectors) = SymmetricEigen.Decompose(Covariance(words, mean), t);
        FixSigns(vectors, t, k);
        double total = values.Sum(v => Math.Max(v, 0)), kept = values.Take(k).Sum(v => Math.Max(v, 0));

        var projected = new double[(long)(n + 1) * dimension];
        var centred = new double[t];
        double norms = 0;
        for (int i = 0; i < n; i++)
        {
            var row = words.Row(i);
            for (int j = 0; j < t; j++)
                centred[j] = row[j] - mean[j];
            double squared = 0;
            for (int c = 0; c < k; c++)
            {
                double z = 0;
                for (int j = 0; j < t; j++)
                    z += centred[j] * vectors[(c * t) + j];
                projected[((long)(i + 1) * dimension) + c] = z;
                squared += z * z;
            }
            norms += Math.Sqrt(squared);
        }
        double scale = n == 0 || norms == 0 ? 1 : RowNorm / (norms / n);
        var table = new float[projected.Length];
        for (long i = 0; i < projected.Length; i++)
            table[i] = (float)(projected[i] * scale);
        FillNoise(table, n + 1, dimension, k, seed);
        return new VocabularyDistillation(table, vectors.Take(k * t).Select(v => (float)v).ToArray(), mean.Select(v => (float)v).ToArray(),
            (float)scale, dimension, t)
        {
            ExplainedVariance = total > 0 ? kept / total : 0,
        };
    }

    /// <summary>(X - mean)ᵀ(X - mean) / n, [t, t] row-major.</summary>
    private static double[] Covariance(TeacherVectors words, double[] mean)
    {
        int n = words.Count, t = words.Dimension;
        var covariance = new double[t * t];
        var centred = new double[t];
        for (int i = 0; i < n; i++)
        {
            var row = words.Row(i);
            for (int j = 0; j < t; j++)
                centred[j] = row[j] - mean[j];
            for (int a = 0; a < t; a++)
            {
                double ca = centred[a];
                if (ca == 0)
                    continue;
                int offset = a * t;
                for (int b = a; b < t; b++)
                    covariance[offset + b] += ca * centred[b];
            }
        }
        for (int a = 0; a < t; a++)
            for (int b = a; b < t; b++)
            {
                double value = covariance[(a * t) + b] / Math.Max(n, 1);
                covariance[(a * t) + b] = value;
                covariance[(b * t) + a] = value;
            }
        return covariance;
    }

    /// <summary>Makes the largest-magnitude entry of each of the first <paramref name="k"/> eigenvectors positive.</summary>
    private static void FixSigns(double[] vectors, int t, int k)
    {
        for (int c = 0; c < k; c++)
        {
            int largest = 0;
            for (int j = 1; j < t; j++)
                if (Math.Abs(vectors[(c * t) + j]) > Math.Abs(vectors[(c * t) + largest]))
                    largest = j;
            if (vectors[(c * t) + largest] < 0)
                for (int j = 0; j < t; j++)
                    vectors[(c * t) + j] = -vectors[(c * t) + j];
        }
    }

    /// <summary>Seeded N(0, NoiseScale²) in columns k..d-1 of rows 1..rows-1 (Box-Muller over a seeded <see cref="Random"/>).</summary>
    private static void FillNoise(float[] table, int rows, int dimension, int k, int seed)
    {
        if (k >= dimension)
            return;
        var random = new Random(seed ^ 0x7EAC4);
        for (int i = 1; i < rows; i++)
            for (int c = k; c < dimension; c++)
            {
                double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
                table[((long)i * dimension) + c] = (float)(NoiseScale * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
            }
    }
}
