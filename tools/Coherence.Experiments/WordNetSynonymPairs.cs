using System.Globalization;
using Microsoft.ML.Coherence.Evaluation;

namespace Coherence.Experiments;

/// <summary>
/// Word pairs for judging rare-word embeddings independently of the statistical field SCA trains toward:
/// WordNet synonyms (two single-word lemmas of one synset, label 1) against random pairs of the same
/// frequency band (label 0).
/// </summary>
/// <remarks>
/// For each synonym pair (a, b), a being the rarer word in the given text (ties: ordinal order), one
/// negative (a, y) is drawn: y uniformly from the candidate words (single-word WordNet lemmas seen at least
/// <see cref="FrequencyBand.MinCount"/> times) in b's band, never a, b or a word that shares a synset with a.
/// So each band holds as many negatives as positives, the negatives repeat the positives' rarer words and
/// match the other word's band, and the pair's band (that of its rarer word) is the same for both.
/// Lemmas are lower-cased (the stage lower-cases); multi-word lemmas (with '_'), one-character lemmas and
/// lemmas without a letter are dropped (<see cref="SingleWordLemma"/>), and the adjective markers "(a)",
/// "(p)", "(ip)" are removed.
/// </remarks>
internal static class WordNetSynonymPairs
{
    /// <summary>The WordNet 3.0 data files read, in this order.</summary>
    public static readonly string[] DataFiles = ["data.adj", "data.adv", "data.noun", "data.verb"];

    /// <summary>Draws tried per negative before the positive is left without one.</summary>
    private const int MaxDraws = 100;

    /// <summary>The single-word lemmas of each synset in the data files under <paramref name="directory"/>.</summary>
    public static List<string[]> ReadSynsets(string directory)
    {
        var synsets = new List<string[]>();
        foreach (var file in DataFiles)
        {
            var path = Path.Combine(directory, file);
            if (!File.Exists(path))
            {
                throw new InputException($"--wordnet: {path} not found (expected WordNet 3.0's {string.Join(", ", DataFiles)}; apt-get install wordnet-base).");
            }

            using var reader = new StreamReader(path);
            synsets.AddRange(ParseSynsets(reader, path));
        }

        return synsets;
    }

    /// <summary>
    /// Parses one WordNet data file: lines "offset lex_filenum ss_type w_cnt word lex_id [word lex_id ...] ...";
    /// w_cnt is two hexadecimal digits. Lines that start with two spaces are the licence header.
    /// </summary>
    public static List<string[]> ParseSynsets(TextReader reader, string name)
    {
        var synsets = new List<string[]>();
        var lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.StartsWith("  ", StringComparison.Ordinal) || line.Trim().Length == 0)
            {
                continue;
            }

            var fields = line.Split(' ');
            if (fields.Length < 6 || !int.TryParse(fields[3], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var count)
                || count < 1 || fields.Length < 4 + (2 * count))
            {
                throw new InputException($"{name} line {lineNumber}: expected 'offset lex_filenum ss_type w_cnt word lex_id ...'.");
            }

            var words = new List<string>(count);
            for (var w = 0; w < count; w++)
            {
                if (SingleWordLemma(fields[4 + (2 * w)]) is { } lemma && !words.Contains(lemma))
                {
                    words.Add(lemma);
                }
            }

            synsets.Add(words.ToArray());
        }

        return synsets;
    }

    /// <summary>
    /// The lower-cased lemma without an adjective marker, or null for a multi-word lemma, a one-character
    /// lemma or one without a letter: "i" (iodine, one) and "c" are mostly the pronoun and a letter in running
    /// text, "1" and "100" are mostly numbers, so their synonym pairs would judge a sense the text hardly has.
    /// </summary>
    public static string? SingleWordLemma(string raw)
    {
        var paren = raw.IndexOf('(');
        var lemma = (paren > 0 && raw.EndsWith(')') ? raw[..paren] : raw).ToLowerInvariant();
        return lemma.Length < 2 || lemma.Contains('_') || !lemma.Any(char.IsLetter) ? null : lemma;
    }

    /// <summary>The pairs: each synonym pair followed by its negative (score 1, then 0).</summary>
    /// <param name="synsets">Single-word lemmas per synset.</param>
    /// <param name="counts">Token counts in the training text.</param>
    /// <param name="seed">Seeds the draw of the negatives.</param>
    public static List<WordSimilarityPair> Build(IReadOnlyList<string[]> synsets, IReadOnlyDictionary<string, long> counts, int seed)
    {
        long Count(string w) => counts.GetValueOrDefault(w);
        var synonyms = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var positives = new SortedSet<(string, string)>(Comparer<(string, string)>.Create((x, y) =>
        {
            var c = string.CompareOrdinal(x.Item1, y.Item1);
            return c != 0 ? c : string.CompareOrdinal(x.Item2, y.Item2);
        }));
        foreach (var synset in synsets)
        {
            var known = synset.Where(w => FrequencyBand.Of(Count(w)) is not null).ToArray();
            foreach (var a in known)
            {
                var set = synonyms.TryGetValue(a, out var s) ? s : synonyms[a] = new HashSet<string>(StringComparer.Ordinal);
                set.UnionWith(known);
                foreach (var b in known)
                {
                    if (string.CompareOrdinal(a, b) < 0)
                    {
                        positives.Add(RarerFirst(a, b, Count));
                    }
                }
            }
        }

        var candidates = new List<string>[FrequencyBand.Names.Length];
        for (var band = 0; band < candidates.Length; band++)
        {
            candidates[band] = [];
        }

        foreach (var word in synonyms.Keys.Order(StringComparer.Ordinal))
        {
            candidates[FrequencyBand.Of(Count(word))!.Value].Add(word);
        }

        var random = new Random(seed);
        var negatives = new HashSet<(string, string)>();
        var pairs = new List<WordSimilarityPair>();
        foreach (var (a, b) in positives)
        {
            pairs.Add(new WordSimilarityPair(a, b, 1));
            var pool = candidates[FrequencyBand.Of(Count(b))!.Value];
            for (var draw = 0; draw < MaxDraws; draw++)
            {
                var y = pool[random.Next(pool.Count)];
                if (y != a && y != b && !synonyms[a].Contains(y) && negatives.Add((a, y)))
                {
                    pairs.Add(new WordSimilarityPair(a, y, 0));
                    break;
                }
            }
        }

        return pairs;
    }

    /// <summary>Writes <c>word1&lt;TAB&gt;word2&lt;TAB&gt;score</c> lines (what <see cref="WordPairs"/> reads), atomically.</summary>
    public static void Write(string path, IEnumerable<WordSimilarityPair> pairs) =>
        Microsoft.ML.Coherence.Internal.AtomicFile.WriteAllText(path,
            string.Concat(pairs.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.First}\t{p.Second}\t{p.Score}\n"))));

    private static (string, string) RarerFirst(string a, string b, Func<string, long> count)
    {
        var (ca, cb) = (count(a), count(b));
        return ca < cb || (ca == cb && string.CompareOrdinal(a, b) < 0) ? (a, b) : (b, a);
    }
}
