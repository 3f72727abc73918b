using System.Numerics;
using System.Runtime.InteropServices;

namespace Microsoft.ML.Coherence.Evaluation;

/// <summary>Small kernels over rows of an embedding matrix: <see cref="Dot"/> is SIMD in float, <see cref="DotDouble"/> scalar in double.</summary>
internal static class VectorMath
{
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var sum = 0f;
        var i = 0;
        if (Vector.IsHardwareAccelerated && a.Length >= Vector<float>.Count)
        {
            var va = MemoryMarshal.Cast<float, Vector<float>>(a);
            var vb = MemoryMarshal.Cast<float, Vector<float>>(b);
            var acc = Vector<float>.Zero;
            for (var v = 0; v < va.Length; v++)
            {
                acc += va[v] * vb[v];
            }

            sum = Vector.Sum(acc);
            i = va.Length * Vector<float>.Count;
        }

        for (; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    /// <summary>Squared norm of every row of <paramref name="embeddings"/>, accumulated in double; parallel over rows.</summary>
    public static double[] SquaredNorms(EmbeddingMatrix embeddings)
    {
        var norms = new double[embeddings.Rows];
        var e = embeddings;
        Parallel.For(0, embeddings.Rows, i => norms[i] = DotDouble(e.Row(i), e.Row(i)));
        return norms;
    }

    /// <summary>Dot product accumulated in double: for metrics where float round-off would show.</summary>
    public static double DotDouble(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double sum = 0;
        for (var i = 0; i < a.Length; i++)
        {
            sum += (double)a[i] * b[i];
        }

        return sum;
    }
}
