namespace Microsoft.ML.Coherence.Internal;

/// <summary>The magic number and version that start every binary file this library writes.</summary>
internal static class FormatHeader
{
    public static void Write(BinaryWriter writer, int magic, int version)
    {
        writer.Write(magic);
        writer.Write(version);
    }

    /// <summary>Reads and checks the header; throws <see cref="InvalidDataException"/> naming <paramref name="what"/> otherwise.</summary>
    public static void Read(BinaryReader reader, int magic, int version, string what)
    {
        if (reader.ReadInt32() != magic)
            CoherenceThrow.InvalidData(what, "the header is wrong.");
        int found = reader.ReadInt32();
        if (found != version)
            CoherenceThrow.InvalidData(what, $"format version {found} is not supported; this library reads version {version}.");
    }
}
