using Microsoft.ML;
using Microsoft.ML.Coherence.Text;

namespace Coherence.Experiments;

/// <summary>How often each token occurs in some text, tokenised exactly as the stage tokenises (<see cref="CoherenceTokenizer"/>).</summary>
internal static class TokenCounts
{
    public static Dictionary<string, long> Of(IEnumerable<string[]> documents)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var tokens in documents)
        {
            foreach (var t in tokens)
            {
                counts[t] = counts.GetValueOrDefault(t) + 1;
            }
        }

        return counts;
    }

    /// <summary>
    /// The stage's tokens of each text (lower case, no diacritics, split on white space and, with
    /// <paramref name="splitPunctuation"/> as in <c>CoherenceEmbeddingOptions.SplitPunctuation</c>, on punctuation).
    /// </summary>
    public static List<string[]> Tokenize(IEnumerable<string> texts, bool splitPunctuation) =>
        new CoherenceTokenizer(new MLContext(0), splitPunctuation).Tokenize(texts).ToList();
}
