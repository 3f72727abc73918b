using System.Globalization;

namespace Coherence.Experiments;

/// <summary>
/// <c>Coherence.Experiments wordnet-pairs</c>: writes WordNet synonym pairs against same-band random pairs
/// (see <see cref="WordNetSynonymPairs"/>) as a pairs file for the harness' <c>--pairs</c>.
/// </summary>
internal sealed class WordNetPairsCommand
{
    public const string Name = "wordnet-pairs";

    public const string Usage = """
        usage: Coherence.Experiments wordnet-pairs --out PAIRS.tsv [--train TRAIN.tsv] [--corpus TEXT.txt]
                                                   [--wordnet /usr/share/wordnet] [--seed 1] [--keep-punctuation]

          --out       the pairs file to write: word1<TAB>word2<TAB>1 (synonyms) or 0 (random pair of the same band)
          --train     labelled TSV (label<TAB>text) whose texts give the word counts
          --corpus    unlabelled text, one document per line, counted too
                      (give the same --train and --corpus as the harness run, so bands are those of the embeddings' text;
                       at least one of the two is required)
          --wordnet   WordNet 3.0 dict folder with data.adj/adv/noun/verb (default /usr/share/wordnet, Debian wordnet-base)
          --seed      seeds the draw of the random pairs (default 1)
          --keep-punctuation   count tokens with punctuation attached, as the stage does with SplitPunctuation = false
                      (give it when the harness run has --keep-punctuation)
        """;

    public required string OutputPath { get; init; }
    public string? TrainPath { get; init; }
    public string? CorpusPath { get; init; }
    public string WordNetDirectory { get; init; } = "/usr/share/wordnet";
    public int Seed { get; init; } = 1;
    public bool SplitPunctuation { get; init; } = true;

    /// <summary>Parses the arguments after the command name; null when help was asked for. Throws <see cref="InputException"/>.</summary>
    public static WordNetPairsCommand? Parse(IReadOnlyList<string> args)
    {
        string? output = null, train = null, corpus = null, wordnet = null;
        var seed = 1;
        var splitPunctuation = true;
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (name is "-h" or "--help")
            {
                return null;
            }

            if (name == "--keep-punctuation")
            {
                splitPunctuation = false;
                continue;
            }

            if (i + 1 >= args.Count)
            {
                throw new InputException($"{Name}: option {name} needs a value.");
            }

            var value = args[++i];
            switch (name)
            {
                case "--out": output = value; break;
                case "--train": train = value; break;
                case "--corpus": corpus = value; break;
                case "--wordnet": wordnet = value; break;
                case "--seed":
                    seed = int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) && s >= 0
                        ? s
                        : throw new InputException($"{Name}: option --seed: '{value}' is not an integer >= 0.");
                    break;
                default: throw new InputException($"{Name}: unknown option {name}; valid: --out, --train, --corpus, --wordnet, --seed, --keep-punctuation.");
            }
        }

        if (output is null)
        {
            throw new InputException($"{Name}: --out is required.");
        }

        if (train is null && corpus is null)
        {
            throw new InputException($"{Name}: give --train and/or --corpus: the text whose word counts define the frequency bands.");
        }

        return new WordNetPairsCommand { OutputPath = output, TrainPath = train, CorpusPath = corpus, WordNetDirectory = wordnet ?? "/usr/share/wordnet", Seed = seed, SplitPunctuation = splitPunctuation };
    }

    /// <summary>Counts, builds and writes; prints a line per band.</summary>
    public void Run(TextWriter log)
    {
        var texts = new List<string>();
        if (TrainPath is not null)
        {
            texts.AddRange(LabeledTsv.Read(TrainPath, TrainPath).Select(r => r.Text));
        }

        if (CorpusPath is not null)
        {
            texts.AddRange(LabeledTsv.ReadCorpus(CorpusPath, CorpusPath));
        }

        var counts = TokenCounts.Of(TokenCounts.Tokenize(texts, SplitPunctuation));
        var synsets = WordNetSynonymPairs.ReadSynsets(WordNetDirectory);
        var pairs = WordNetSynonymPairs.Build(synsets, counts, Seed);
        var directory = Path.GetDirectoryName(Path.GetFullPath(OutputPath));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        WordNetSynonymPairs.Write(OutputPath, pairs);
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{OutputPath}: {pairs.Count:N0} pairs from {synsets.Count:N0} synsets, {texts.Count:N0} texts ({counts.Values.Sum():N0} tokens, {counts.Count:N0} distinct)"));
        for (var band = 0; band < FrequencyBand.Names.Length; band++)
        {
            var inBand = pairs.Where(p => FrequencyBand.Of(Math.Min(counts.GetValueOrDefault(p.First), counts.GetValueOrDefault(p.Second))) == band).ToList();
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  band {FrequencyBand.Names[band],-6} (rarer word's count): {inBand.Count(p => p.Score == 1):N0} synonym pairs, {inBand.Count(p => p.Score == 0):N0} random pairs"));
        }
    }
}
