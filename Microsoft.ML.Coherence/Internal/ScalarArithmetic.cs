using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Internal;

/// <summary>
/// Tensor-with-number operations that keep their <see cref="Scalar"/> alive. TorchSharp 0.107 turns a
/// .NET number into a finalizable <see cref="Scalar"/> and passes only its handle to the native call, without
/// GC.KeepAlive; the JIT may then collect the Scalar and its finalizer free the handle while libtorch still
/// reads it (seen here: "Expected false to be true ... toFloat" from masked_fill at step 190 of a 300-step
/// run, not reproducible on the next run). A <c>using</c> keeps each Scalar reachable until the call returns.
/// Use these instead of <c>tensor * 2.0</c>-style operators and implicit Scalar arguments in library code.
/// TorchSharp also creates Scalars of its own behind some overloads: <c>add(Tensor)</c> and the <c>+</c> operator
/// call <c>add(other, 1)</c>, <c>add(Scalar)</c> calls <c>add(scalar, 1)</c>, <c>arange(start, stop)</c> passes a
/// step of 1. <c>ImplicitScalarScanTests</c> fails when library code reaches any such overload.
/// </summary>
internal static class ScalarArithmetic
{
    public static Tensor Times(this Tensor tensor, double value)
    {
        using var scalar = value.ToScalar();
        return tensor.mul(scalar);
    }

    public static Tensor Plus(this Tensor tensor, double value)
    {
        using var scalar = value.ToScalar();
        using var one = 1.ToScalar();
        return tensor.add(scalar, one);
    }

    /// <summary><paramref name="tensor"/> + <paramref name="other"/> (broadcasting), with the alpha of 1 held alive.</summary>
    public static Tensor Plus(this Tensor tensor, Tensor other)
    {
        using var one = 1.ToScalar();
        return tensor.add(other, one);
    }

    /// <summary>In place: <paramref name="tensor"/> += <paramref name="value"/>.</summary>
    public static Tensor PlusInPlace(this Tensor tensor, Scalar value)
    {
        using var one = 1.ToScalar();
        return tensor.add_(value, one);
    }

    /// <summary>A copy of <paramref name="tensor"/> with the rows of <paramref name="source"/> added at <paramref name="index"/> along <paramref name="dim"/> (alpha 1 held alive).</summary>
    public static Tensor IndexAdd(this Tensor tensor, long dim, Tensor index, Tensor source)
    {
        using var one = 1.ToScalar();
        return tensor.index_add(dim, index, source, one);
    }

    public static Tensor DividedBy(this Tensor tensor, double value)
    {
        using var scalar = value.ToScalar();
        return tensor.div(scalar);
    }

    public static Tensor FilledWhere(this Tensor tensor, Tensor mask, double value)
    {
        using var scalar = value.ToScalar();
        return tensor.masked_fill(mask, scalar);
    }

    public static Tensor AtLeast(this Tensor tensor, double minimum)
    {
        using var scalar = minimum.ToScalar();
        return tensor.clamp_min(scalar);
    }

    public static Tensor AtMost(this Tensor tensor, double maximum)
    {
        using var scalar = maximum.ToScalar();
        return tensor.clamp_max(scalar);
    }

    /// <summary>torch.arange(start, stop) as int64 on <paramref name="device"/>.</summary>
    public static Tensor Range(long start, long stop, Device device)
    {
        using var from = start.ToScalar();
        using var to = stop.ToScalar();
        using var step = 1L.ToScalar();
        return torch.arange(from, to, step, dtype: ScalarType.Int64, device: device);
    }
}
