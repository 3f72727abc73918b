using System.Globalization;
using Microsoft.ML.Coherence.Evaluation;

namespace Coherence.Experiments;

/// <summary>Reads word-similarity pairs: <c>word1&lt;TAB&gt;word2&lt;TAB&gt;score</c>, one per line, no header.</summary>
internal static class WordPairs
{
    public static List<WordSimilarityPair> Read(string path, string? displayName = null)
    {
        var name = displayName ?? Path.GetFileName(path);
        if (!File.Exists(path))
        {
            throw new InputException($"{name}: file not found ({Path.GetFullPath(path)}).");
        }

        using var reader = new StreamReader(path);
        return Parse(reader, name);
    }

    public static List<WordSimilarityPair> Parse(TextReader reader, string name)
    {
        var pairs = new List<WordSimilarityPair>();
        var lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var parts = line.Split('\t');
            if (parts.Length != 3 || parts[0].Trim().Length == 0 || parts[1].Trim().Length == 0
                || !double.TryParse(parts[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var score) || !double.IsFinite(score))
            {
                throw new InputException($"{name} line {lineNumber}: expected 'word1<TAB>word2<TAB>score'.");
            }

            pairs.Add(new WordSimilarityPair(parts[0].Trim(), parts[1].Trim(), score));
        }

        if (pairs.Count == 0)
        {
            throw new InputException($"{name}: the file is empty (expected lines of 'word1<TAB>word2<TAB>score').");
        }

        return pairs;
    }
}
