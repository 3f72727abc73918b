namespace Microsoft.ML.Coherence.Modules;

/// <summary>
/// <see cref="CoherenceEncoderWeights"/> in a versioned binary form: the sizes, then every array with its length. Reading
/// checks each length against the bytes left before allocating, so a damaged or forged file fails quickly with
/// <see cref="InvalidDataException"/>, and the weights are checked whole (<see cref="CoherenceEncoderWeights.ThrowIfInvalid"/>).
/// </summary>
internal static class EncoderWeightsFormat
{
    // Version 2 (2026-12-07) dropped SIF's, the subwords' and the word bigrams' arrays with their options.
    private const int FormatVersion = 2;
    private const string What = "Coherence encoder weights";

    public static void Write(BinaryWriter writer, CoherenceEncoderWeights weights)
    {
        writer.Write(FormatVersion);
        foreach (int value in new[] { weights.VocabularySize, weights.Dimension, weights.Heads, weights.ContextLength, weights.Blocks.Count })
            writer.Write(value);
        foreach (var array in new[] { weights.Embeddings, weights.Positions, weights.FinalNormWeight, weights.FinalNormBias })
            WriteArray(writer, array);
        foreach (var block in weights.Blocks)
        {
            foreach (var array in BlockArrays(block))
                WriteArray(writer, array);
        }
    }

    public static CoherenceEncoderWeights Read(BinaryReader reader)
    {
        int version = reader.ReadInt32();
        if (version != FormatVersion)
            throw new InvalidDataException($"{What} have format version {version}; this build reads version {FormatVersion}.");
        int vocabularySize = reader.ReadInt32(), dimension = reader.ReadInt32(), heads = reader.ReadInt32(), contextLength = reader.ReadInt32();
        int layers = reader.ReadInt32();
        if (layers is < 0 or > 64)
            throw new InvalidDataException($"{What} declare {layers} layers.");
        float[] embeddings = ReadArray(reader), positions = ReadArray(reader), finalNormWeight = ReadArray(reader), finalNormBias = ReadArray(reader);
        var blocks = new CoherenceBlockWeights[layers];
        for (int l = 0; l < layers; l++)
        {
            blocks[l] = new CoherenceBlockWeights
            {
                Norm1Weight = ReadArray(reader), Norm1Bias = ReadArray(reader), QkvWeight = ReadArray(reader), QkvBias = ReadArray(reader),
                OutWeight = ReadArray(reader), OutBias = ReadArray(reader), Norm2Weight = ReadArray(reader), Norm2Bias = ReadArray(reader),
                Mlp1Weight = ReadArray(reader), Mlp1Bias = ReadArray(reader), Mlp2Weight = ReadArray(reader), Mlp2Bias = ReadArray(reader),
            };
        }
        var weights = new CoherenceEncoderWeights
        {
            VocabularySize = vocabularySize, Dimension = dimension, Heads = heads, ContextLength = contextLength,
            Embeddings = embeddings, Positions = positions, Blocks = blocks, FinalNormWeight = finalNormWeight, FinalNormBias = finalNormBias,
        };
        try
        {
            weights.ThrowIfInvalid("weights");
        }
        catch (ArgumentException invalid)
        {
            throw new InvalidDataException($"{What} do not fit together: {invalid.Message}", invalid);
        }
        return weights;
    }

    private static float[][] BlockArrays(CoherenceBlockWeights block) =>
    [
        block.Norm1Weight, block.Norm1Bias, block.QkvWeight, block.QkvBias, block.OutWeight, block.OutBias,
        block.Norm2Weight, block.Norm2Bias, block.Mlp1Weight, block.Mlp1Bias, block.Mlp2Weight, block.Mlp2Bias,
    ];

    private static void WriteArray(BinaryWriter writer, float[] values)
    {
        writer.Write(values.Length);
        foreach (float value in values)
            writer.Write(value);
    }

    private static float[] ReadArray(BinaryReader reader)
    {
        var values = new float[ReadLength(reader, sizeof(float))];
        for (int i = 0; i < values.Length; i++)
            values[i] = reader.ReadSingle();
        return values;
    }

    // A length that the bytes left can hold, checked before anything is allocated for it.
    private static int ReadLength(BinaryReader reader, int elementBytes)
    {
        int length = reader.ReadInt32();
        long left = reader.BaseStream.Length - reader.BaseStream.Position;
        if (length < 0 || (long)length * elementBytes > left)
            throw new InvalidDataException($"{What} declare an array of {length} values where {left} bytes are left.");
        return length;
    }
}
