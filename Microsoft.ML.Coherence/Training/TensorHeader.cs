using TorchSharp;

namespace Microsoft.ML.Coherence.Training;

/// <summary>
/// Reads the header TorchSharp writes before a tensor's bytes (its element type, rank and dimensions, an unsigned LEB128
/// each) and checks it against the tensor it will be loaded into, without allocating anything the file declares: TorchSharp's
/// own load allocates the declared shape first (a rank of 2^28 is a 2 GB array) and checks after.
/// </summary>
internal static class TensorHeader
{
    /// <summary>Null when the tensor at the stream's position fits <paramref name="expected"/> (the stream is then left after
    /// its bytes); otherwise what does not.</summary>
    /// <exception cref="EndOfStreamException">The stream ends inside the header.</exception>
    /// <exception cref="InvalidDataException">A header value does not fit in 63 bits.</exception>
    public static string? Mismatch(Stream stream, torch.Tensor expected, string name)
    {
        long type = Leb128(stream, $"the element type of '{name}'");
        if (type != (long)expected.dtype)
            return $"tensor '{name}' has element type {type}, this run's {(long)expected.dtype}";
        long rank = Leb128(stream, $"the rank of '{name}'");
        if (rank != expected.dim())
            return $"tensor '{name}' has rank {rank}, this run's {expected.dim()}";
        for (int d = 0; d < rank; d++)
        {
            long size = Leb128(stream, $"a dimension of '{name}'");
            if (size != expected.shape[d])
                return $"tensor '{name}' has dimension {d} of {size}, this run's {expected.shape[d]}";
        }
        long bytes = expected.numel() * expected.element_size();
        if (stream.Length - stream.Position < bytes)
            return $"tensor '{name}' needs {bytes} bytes and the file holds {stream.Length - stream.Position} more";
        stream.Seek(bytes, SeekOrigin.Current);
        return null;
    }

    /// <summary>An unsigned LEB128 value of at most 63 bits (a longer one is refused before it can overflow).</summary>
    public static long Leb128(Stream stream, string what)
    {
        long value = 0;
        for (int shift = 0; shift < 63; shift += 7)
        {
            int b = stream.ReadByte();
            if (b < 0)
                throw new EndOfStreamException($"The file ends inside {what}.");
            value |= (long)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
                return value;
        }
        throw new InvalidDataException($"{what} does not fit in 63 bits.");
    }
}
