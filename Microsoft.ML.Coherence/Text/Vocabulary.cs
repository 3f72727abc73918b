using System.Runtime.InteropServices;
using System.Text;
using Microsoft.ML.Data;
using Microsoft.ML.Coherence.Internal;

namespace Microsoft.ML.Coherence.Text;

/// <summary>
/// The token vocabulary: id 0 is <see cref="UnknownToken"/>; known tokens have ids 1..<see cref="Count"/>-1,
/// ordered by descending frequency, then by ordinal string order, so that the same corpus always gives the same ids.
/// </summary>
public sealed class Vocabulary
{
    /// <summary>The token of id 0, which stands for every token outside the vocabulary.</summary>
    public const string UnknownToken = "<unk>";

    /// <summary>The id of <see cref="UnknownToken"/>.</summary>
    public const int UnknownId = 0;

    private const int FormatMagic = 0x434F5643; // "COVC"
    private const int FormatVersion = 1;

    private readonly string[] _tokens;
    private readonly long[] _frequencies;
    private readonly Dictionary<string, int> _ids;

    private Vocabulary(string[] tokens, long[] frequencies)
    {
        _tokens = tokens;
        _frequencies = frequencies;
        _ids = new Dictionary<string, int>(tokens.Length, StringComparer.Ordinal);
        // Id 0 is not in the map: GetId returns it for every token not found, "<unk>" included.
        for (var id = 1; id < tokens.Length; id++)
        {
            _ids.Add(tokens[id], id);
        }
        foreach (var frequency in frequencies)
        {
            TotalTokens += frequency;
        }
    }

    /// <summary>Number of ids, including the unknown token.</summary>
    public int Count => _tokens.Length;

    /// <summary>The tokens by id; index 0 is <see cref="UnknownToken"/>.</summary>
    public IReadOnlyList<string> Tokens => _tokens;

    /// <summary>Corpus frequency of each id; that of id 0 is the number of out-of-vocabulary occurrences.</summary>
    public ReadOnlySpan<long> Frequencies => _frequencies;

    /// <summary>Number of token occurrences in the corpus the vocabulary was built from, unknown ones included.</summary>
    public long TotalTokens { get; }

    /// <summary>Builds the vocabulary of a tokenized corpus, reading it once.</summary>
    /// <param name="documents">The tokenized documents (for example from <see cref="CoherenceTokenizer.Tokenize(IEnumerable{string?})"/>).</param>
    /// <param name="minCount">Minimum number of occurrences for a token to be known; at least 1.</param>
    /// <param name="maxSize">Maximum number of ids, the unknown token included; at least 2.</param>
    /// <returns>The vocabulary.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="minCount"/> or <paramref name="maxSize"/> is out of range.</exception>
    /// <exception cref="ArgumentException">The corpus has no tokens, or no token occurs <paramref name="minCount"/> times.</exception>
    public static Vocabulary Build(IEnumerable<string[]> documents, int minCount, int maxSize)
    {
        ArgumentNullException.ThrowIfNull(documents);
        CheckLimits(minCount, maxSize);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        long total = 0;
        foreach (var document in documents)
        {
            foreach (var token in document)
            {
                counts[token] = counts.GetValueOrDefault(token) + 1;
            }
            total += document.Length;
        }
        return FromCounts(counts, total, minCount, maxSize, nameof(documents));
    }

    /// <summary>
    /// Builds the vocabulary from token slices, as the tokenizer's cursor hands them out: a token becomes a string only the
    /// first time it is seen, so a corpus costs memory in proportion to its distinct tokens, not to its length.
    /// </summary>
    internal static Vocabulary BuildFromSlices(IEnumerable<VBuffer<ReadOnlyMemory<char>>> documents, int minCount, int maxSize)
    {
        ArgumentNullException.ThrowIfNull(documents);
        CheckLimits(minCount, maxSize);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var lookup = counts.GetAlternateLookup<ReadOnlySpan<char>>();
        long total = 0;
        foreach (var document in documents)
        {
            var tokens = document.GetValues();
            foreach (var token in tokens)
            {
                CollectionsMarshal.GetValueRefOrAddDefault(lookup, token.Span, out _)++;
            }
            total += tokens.Length;
        }
        return FromCounts(counts, total, minCount, maxSize, nameof(documents));
    }

    private static void CheckLimits(int minCount, int maxSize)
    {
        if (minCount < 1)
        {
            CoherenceThrow.ArgumentOutOfRange(nameof(minCount), minCount, $"MinCount is {minCount}; it must be at least 1.");
        }
        if (maxSize < 2)
        {
            CoherenceThrow.ArgumentOutOfRange(nameof(maxSize), maxSize,
                $"MaxSize is {maxSize}; it must be at least 2 (the unknown token and one known token).");
        }
    }

    private static Vocabulary FromCounts(Dictionary<string, long> counts, long total, int minCount, int maxSize, string documentsName)
    {
        if (total == 0)
        {
            CoherenceThrow.Argument(documentsName,
                "The corpus has no tokens; it needs at least one non-empty document.");
        }

        // A literal "<unk>" in the corpus is counted as an unknown occurrence, never as a known token. So is a token holding
        // half of a surrogate pair (invalid Unicode): no UTF-8 file (word2vec, safetensors, the saved chain's key table) can
        // store it exactly, so it would not survive an export; it scores as unknown through the same MapValueToKey.
        var kept = counts.Where(pair => pair.Value >= minCount && pair.Key != UnknownToken && IsValidUnicode(pair.Key)).ToList();
        if (kept.Count == 0)
        {
            CoherenceThrow.Argument(nameof(minCount),
                $"The vocabulary would hold only unknown tokens; lower MinCount (now {minCount}) to at most " +
                $"{counts.Values.Max()}, the highest token count in this corpus.");
        }
        kept.Sort(static (a, b) => a.Value != b.Value ? b.Value.CompareTo(a.Value) : string.CompareOrdinal(a.Key, b.Key));

        var size = Math.Min(kept.Count + 1, maxSize);
        var tokens = new string[size];
        var frequencies = new long[size];
        tokens[UnknownId] = UnknownToken;
        long known = 0;
        for (var id = 1; id < size; id++)
        {
            (tokens[id], frequencies[id]) = (kept[id - 1].Key, kept[id - 1].Value);
            known += frequencies[id];
        }
        frequencies[UnknownId] = total - known;
        return new Vocabulary(tokens, frequencies);
    }

    /// <summary>Whether <paramref name="token"/> has no lone surrogate, so UTF-8 holds it exactly.</summary>
    internal static bool IsValidUnicode(string token)
    {
        for (int i = 0; i < token.Length; i++)
        {
            if (char.IsHighSurrogate(token[i]) && i + 1 < token.Length && char.IsLowSurrogate(token[i + 1]))
                i++;
            else if (char.IsSurrogate(token[i]))
                return false;
        }
        return true;
    }

    /// <summary>The corpus frequency of <paramref name="id"/>; for id 0, the number of out-of-vocabulary occurrences.</summary>
    /// <param name="id">A token id in 0..<see cref="Count"/>-1.</param>
    /// <returns>The frequency.</returns>
    public long GetFrequency(int id)
    {
        if ((uint)id >= (uint)_tokens.Length)
        {
            CoherenceThrow.ArgumentOutOfRange(nameof(id), id, $"Token id {id} is outside the vocabulary; use 0..{_tokens.Length - 1}.");
        }
        return _frequencies[id];
    }

    /// <summary>Looks a token up.</summary>
    /// <param name="token">The token.</param>
    /// <param name="id">Its id when known; otherwise 0.</param>
    /// <returns>Whether the token is known.</returns>
    public bool TryGetId(string token, out int id)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (_ids.TryGetValue(token, out id))
        {
            return true;
        }
        id = UnknownId;
        return false;
    }

    /// <summary>The id of <paramref name="token"/>, or 0 (<see cref="UnknownToken"/>) when it is not known.</summary>
    /// <param name="token">The token.</param>
    /// <returns>The id.</returns>
    public int GetId(string token)
    {
        TryGetId(token, out var id);
        return id;
    }

    /// <summary>The ids of <paramref name="tokens"/>, 0 for unknown ones.</summary>
    /// <param name="tokens">The tokens of one document.</param>
    /// <returns>One id per token.</returns>
    public int[] Encode(string[] tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        var ids = new int[tokens.Length];
        for (var k = 0; k < tokens.Length; k++)
        {
            ids[k] = GetId(tokens[k]);
        }
        return ids;
    }

    /// <summary>Writes the ids of <paramref name="tokens"/> (0 for unknown ones) into <paramref name="ids"/>, which holds at least as many.</summary>
    internal void Encode(ReadOnlySpan<ReadOnlyMemory<char>> tokens, Span<int> ids)
    {
        var lookup = _ids.GetAlternateLookup<ReadOnlySpan<char>>();
        for (var k = 0; k < tokens.Length; k++)
        {
            ids[k] = lookup.TryGetValue(tokens[k].Span, out var id) ? id : UnknownId;
        }
    }

    /// <summary>Writes the vocabulary in a versioned binary format (UTF-8 tokens, little-endian counts).</summary>
    /// <param name="stream">A writable stream; left open.</param>
    internal void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        FormatHeader.Write(writer, FormatMagic, FormatVersion);
        writer.Write(_tokens.Length);
        for (var id = 0; id < _tokens.Length; id++)
        {
            writer.Write(_tokens[id]);
            writer.Write(_frequencies[id]);
        }
    }

    /// <summary>Reads a vocabulary written by <see cref="Save"/>.</summary>
    /// <param name="stream">A readable stream; left open.</param>
    /// <returns>The vocabulary.</returns>
    /// <exception cref="InvalidDataException">The stream does not hold a vocabulary of a known version.</exception>
    internal static Vocabulary Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        const string What = "Coherence vocabulary";
        FormatHeader.Read(reader, FormatMagic, FormatVersion, What);
        var count = reader.ReadInt32();
        if (count < 2)
        {
            CoherenceThrow.InvalidData(What, $"it has {count} tokens; at least 2 are needed.");
        }
        var tokens = new string[count];
        var frequencies = new long[count];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var id = 0; id < count; id++)
        {
            tokens[id] = reader.ReadString();
            frequencies[id] = reader.ReadInt64();
            if (frequencies[id] < 0 || (id > 0 && !seen.Add(tokens[id])))
            {
                CoherenceThrow.InvalidData(What, $"token {id} ('{tokens[id]}') is repeated or has a negative count.");
            }
        }
        if (tokens[UnknownId] != UnknownToken)
        {
            CoherenceThrow.InvalidData(What, $"token 0 is '{tokens[UnknownId]}', not '{UnknownToken}'.");
        }
        return new Vocabulary(tokens, frequencies);
    }
}
