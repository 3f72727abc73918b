using System.Globalization;
using Microsoft.ML.Coherence.Evaluation;

namespace Coherence.Experiments;

/// <summary>
/// Word vectors in the word2vec text format that fastText writes (<c>.vec</c>): an optional header line
/// "count dimension", then one line per word: the word and its values, separated by spaces.
/// </summary>
internal sealed class VecFile
{
    private readonly Dictionary<string, int> _ids;

    private VecFile(List<string> words, float[] values, int dimension)
    {
        Words = words;
        Dimension = dimension;
        // Row 0 is left zero as the "unknown" row, so the matrix can be used where token id 0 means unknown.
        Matrix = new EmbeddingMatrix(values, dimension);
        _ids = new Dictionary<string, int>(words.Count, StringComparer.Ordinal);
        for (var i = 0; i < words.Count; i++)
        {
            _ids.TryAdd(words[i], i + 1);
        }
    }

    /// <summary>The words, in file order.</summary>
    public IReadOnlyList<string> Words { get; }

    /// <summary>The vector length.</summary>
    public int Dimension { get; }

    /// <summary>[1 + Words.Count, Dimension]: row 0 is zero (unknown), row i + 1 is <c>Words[i]</c>.</summary>
    public EmbeddingMatrix Matrix { get; }

    /// <summary>The matrix row of <paramref name="word"/> (1-based; the first occurrence wins), or null when absent.</summary>
    public int? Lookup(string word) => _ids.TryGetValue(word, out var id) ? id : null;

    /// <summary>The vector of <paramref name="word"/>, or an empty span when absent.</summary>
    public ReadOnlySpan<float> Vector(string word) => Lookup(word) is int id ? Matrix.Row(id) : [];

    public static VecFile Read(string path, string? displayName = null)
    {
        var name = displayName ?? Path.GetFileName(path);
        if (!File.Exists(path))
        {
            throw new InputException($"{name}: file not found ({Path.GetFullPath(path)}).");
        }

        using var reader = new StreamReader(path);
        return Parse(reader, name);
    }

    public static VecFile Parse(TextReader reader, string name)
    {
        var words = new List<string>();
        var values = new List<float>();
        var dimension = 0;
        var lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0)
            {
                continue;
            }

            if (lineNumber == 1 && parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out _)
                && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var headerDimension))
            {
                dimension = headerDimension;
                continue;
            }

            if (dimension == 0)
            {
                dimension = parts.Length - 1;
            }

            if (parts.Length != dimension + 1 || dimension < 1)
            {
                throw new InputException($"{name} line {lineNumber}: expected a word and {Math.Max(dimension, 1)} numbers separated by spaces, found {parts.Length - 1} numbers.");
            }

            if (values.Count == 0)
            {
                values.AddRange(new float[dimension]); // row 0: unknown
            }

            for (var k = 1; k < parts.Length; k++)
            {
                if (!float.TryParse(parts[k], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !float.IsFinite(v))
                {
                    throw new InputException($"{name} line {lineNumber}: '{parts[k]}' is not a finite number.");
                }

                values.Add(v);
            }

            words.Add(parts[0]);
        }

        if (words.Count == 0)
        {
            throw new InputException($"{name}: no word vectors (expected lines of 'word v1 v2 ...').");
        }

        return new VecFile(words, values.ToArray(), dimension);
    }
}
