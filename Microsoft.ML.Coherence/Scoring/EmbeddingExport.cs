using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.ML.Coherence.Internal;

namespace Microsoft.ML.Coherence.Scoring;

/// <summary>Writes the token embeddings in formats other ecosystems read: word2vec text and safetensors.</summary>
internal static class EmbeddingExport
{
    /// <summary>
    /// word2vec text: a "count dimension" line, then "token v1 ... vd" per token, invariant culture, round-trip floats.
    /// The format separates fields by spaces and rows by newlines, so a token that is empty or holds white space or a
    /// control character is refused before anything is written (the library's tokeniser never makes one). So is a token
    /// with half of a surrogate pair (text can hold one, UTF-8 cannot: the file would hold U+FFFD instead).
    /// </summary>
    public static void WriteWord2Vec(string path, IReadOnlyList<string> tokens, float[] embeddings, int dimension)
    {
        for (int i = 0; i < tokens.Count; i++)
        {
            string token = tokens[i];
            if (string.IsNullOrEmpty(token) || token.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)) || !RoundTripsThroughUtf8(token))
                throw new ArgumentException(
                    $"Token {i} ('{string.Concat((token ?? "").Select(c => char.IsControl(c) || char.IsWhiteSpace(c) || char.IsSurrogate(c) ? $"\\u{(int)c:X4}" : c.ToString()))}') " +
                    "is empty or holds white space, a control character or half of a surrogate pair, which the word2vec text format cannot hold; nothing was written. " +
                    "Use ExportSafetensors, which stores any token.", nameof(tokens));
        }
        WriteWord2VecRows(path, tokens, embeddings, dimension);
    }

    private static bool RoundTripsThroughUtf8(string token) => Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(token)) == token;

    private static void WriteWord2VecRows(string path, IReadOnlyList<string> tokens, float[] embeddings, int dimension) =>
        AtomicFile.Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(false)) { NewLine = "\n" };
            writer.WriteLine($"{tokens.Count} {dimension}");
            var line = new StringBuilder();
            for (int i = 0; i < tokens.Count; i++)
            {
                line.Clear().Append(tokens[i]);
                for (int k = 0; k < dimension; k++)
                    line.Append(' ').Append(embeddings[i * dimension + k].ToString("R", CultureInfo.InvariantCulture));
                writer.WriteLine(line);
            }
        });

    /// <summary>
    /// safetensors: little-endian u64 header length, a JSON header naming the tensor "embeddings"
    /// (F32, [V, d]) with the vocabulary in its metadata, padded with spaces to 8 bytes, then the data.
    /// </summary>
    public static void WriteSafetensors(string path, IReadOnlyList<string> tokens, float[] embeddings, int dimension) =>
        AtomicFile.Write(path, stream =>
        {
            long bytes = (long)embeddings.Length * sizeof(float);
            var header = new Dictionary<string, object>
            {
                ["__metadata__"] = new Dictionary<string, string>
                {
                    ["format"] = "pt",
                    ["producer"] = "Microsoft.ML.Coherence",
                    ["vocabulary"] = JsonSerializer.Serialize(tokens),
                },
                ["embeddings"] = new Dictionary<string, object>
                {
                    ["dtype"] = "F32",
                    ["shape"] = new long[] { tokens.Count, dimension },
                    ["data_offsets"] = new long[] { 0, bytes },
                },
            };
            var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
            int padded = (json.Length + 7) / 8 * 8;
            var headerBytes = new byte[padded];
            Array.Fill(headerBytes, (byte)' ');
            json.CopyTo(headerBytes, 0);
            using var writer = new BinaryWriter(stream);
            writer.Write((ulong)padded);
            writer.Write(headerBytes);
            foreach (float value in embeddings)
                writer.Write(value); // BinaryWriter writes little-endian
        });
}
