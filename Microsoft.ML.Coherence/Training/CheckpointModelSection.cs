using Microsoft.ML.Coherence.Modules;

namespace Microsoft.ML.Coherence.Training;

/// <summary>
/// Checks the model section of a checkpoint against the model it will be loaded into, before TorchSharp's <c>load</c>
/// reads it: TorchSharp allocates what a file declares (a tensor of rank 2^28 is a 2 GB array before any check), and the
/// checksum guards against damage, not against a file someone wrote with a valid hash. The section is TorchSharp's state
/// dictionary format: an unsigned LEB128 count, then per tensor its name (LEB128 byte length, UTF-8), its element type,
/// rank and dimensions (LEB128 each) and its raw bytes.
/// </summary>
internal static class CheckpointModelSection
{
    private const int MaxNameBytes = 1024;

    /// <summary>Null when the section at the stream's position matches <paramref name="model"/> tensor for tensor; otherwise what
    /// does not. Reads no more than the section (the stream is left after it) and allocates nothing a file declares.</summary>
    public static string? Mismatch(Stream stream, CoherenceLanguageModel model)
    {
        var expected = model.state_dict();
        long count = Leb128(stream, "the tensor count");
        if (count != expected.Count)
            return $"it holds {count} tensors where this run's model has {expected.Count}";
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (long i = 0; i < count; i++)
        {
            long nameBytes = Leb128(stream, "a tensor name's length");
            if (nameBytes is < 1 or > MaxNameBytes)
                return $"tensor {i} declares a name of {nameBytes} bytes";
            var name = new byte[nameBytes];
            stream.ReadExactly(name);
            string key = System.Text.Encoding.UTF8.GetString(name);
            if (!expected.TryGetValue(key, out var tensor) || !seen.Add(key))
                return $"it holds a tensor '{key}' that this run's model does not have (or holds it twice)";
            long type = Leb128(stream, $"the element type of '{key}'");
            if (type != (long)tensor.dtype)
                return $"tensor '{key}' has element type {type}, this run's model {(long)tensor.dtype}";
            long rank = Leb128(stream, $"the rank of '{key}'");
            if (rank != tensor.dim())
                return $"tensor '{key}' has rank {rank}, this run's model {tensor.dim()}";
            for (int d = 0; d < rank; d++)
            {
                long size = Leb128(stream, $"a dimension of '{key}'");
                if (size != tensor.shape[d])
                    return $"tensor '{key}' has dimension {d} of {size}, this run's model {tensor.shape[d]}";
            }
            long bytes = tensor.numel() * tensor.element_size();
            if (stream.Length - stream.Position < bytes)
                return $"tensor '{key}' needs {bytes} bytes and the file holds {stream.Length - stream.Position} more";
            stream.Seek(bytes, SeekOrigin.Current);
        }
        return null;
    }

    /// <summary>An unsigned LEB128 value of at most 63 bits (a longer one is refused before it can overflow).</summary>
    private static long Leb128(Stream stream, string what)
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
