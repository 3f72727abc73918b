using Microsoft.ML.Coherence.Modules;

namespace Microsoft.ML.Coherence.Training;

/// <summary>
/// Checks the model section of a checkpoint against the model it will be loaded into, before TorchSharp's <c>load</c>
/// reads it: TorchSharp allocates what a file declares (a tensor of rank 2^28 is a 2 GB array before any check), and the
/// checksum guards against damage, not against a file someone wrote with a valid hash. The section is TorchSharp's state
/// dictionary format: an unsigned LEB128 count, then per tensor its name (LEB128 byte length, UTF-8) and the tensor
/// (<see cref="TensorHeader"/>, then its raw bytes).
/// </summary>
internal static class CheckpointModelSection
{
    private const int MaxNameBytes = 1024;

    /// <summary>Null when the section at the stream's position matches <paramref name="model"/> tensor for tensor; otherwise what
    /// does not. Reads no more than the section (the stream is left after it) and allocates nothing a file declares.</summary>
    public static string? Mismatch(Stream stream, CoherenceLanguageModel model)
    {
        var expected = model.state_dict();
        long count = TensorHeader.Leb128(stream, "the tensor count");
        if (count != expected.Count)
            return $"it holds {count} tensors where this run's model has {expected.Count}";
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (long i = 0; i < count; i++)
        {
            long nameBytes = TensorHeader.Leb128(stream, "a tensor name's length");
            if (nameBytes is < 1 or > MaxNameBytes)
                return $"tensor {i} declares a name of {nameBytes} bytes";
            var name = new byte[nameBytes];
            stream.ReadExactly(name);
            string key = System.Text.Encoding.UTF8.GetString(name);
            if (!expected.TryGetValue(key, out var tensor) || !seen.Add(key))
                return $"it holds a tensor '{key}' that this run's model does not have (or holds it twice)";
            if (TensorHeader.Mismatch(stream, tensor, key) is { } mismatch)
                return mismatch;
        }
        return null;
    }
}
