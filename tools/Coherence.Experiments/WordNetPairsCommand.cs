using System.CommandLine;
using System.Globalization;
using Coherence.Tools;

namespace Coherence.Experiments;

/// <summary>
/// <c>Coherence.Experiments wordnet-pairs</c>: writes WordNet synonym pairs against same-band random pairs
/// (see <see cref="WordNetSynonymPairs"/>) as a pairs file for the harness' <c>--pairs</c>.
/// </summary>
internal sealed class WordNetPairsCommand
{
    public const string Name = "wordnet-pairs";

    public required string OutputPath { get; init; }
    public string? TrainPath { get; init; }
    public string? CorpusPath { get; init; }
    public string WordNetDirectory { get; init; } = "/usr/share/wordnet";
    public int Seed { get; init; } = 1;
    public bool SplitPunctuation { get; init; } = true;

    /// <summary>The <c>wordnet-pairs</c> subcommand of the harness' root command; built once.</summary>
    public static Command Command { get; } = CreateCommand();

    /// <summary>Parses the arguments after the command name; null when help was asked for. Throws <see cref="InputException"/>.</summary>
    public static WordNetPairsCommand? Parse(IReadOnlyList<string> args)
    {
        var result = ToolCommandLine.Parse(ExperimentOptions.Command, [Name, .. args]);
        return ToolCommandLine.IsHelp(result) ? null : From(result);
    }

    /// <summary>The command of a parse whose command is <c>wordnet-pairs</c>. Throws <see cref="InputException"/>.</summary>
    public static WordNetPairsCommand From(ParseResult result)
    {
        if (ToolCommandLine.FirstError(result) is { } error)
        {
            throw new InputException($"{Name}: {error}");
        }

        string? output = result.GetValue(Cli.Out), train = result.GetValue(Cli.Train), corpus = result.GetValue(Cli.Corpus);
        if (output is null)
        {
            throw new InputException($"{Name}: --out is required.");
        }

        if (train is null && corpus is null)
        {
            throw new InputException($"{Name}: give --train and/or --corpus: the text whose word counts define the frequency bands.");
        }

        return new WordNetPairsCommand
        {
            OutputPath = output,
            TrainPath = train,
            CorpusPath = corpus,
            WordNetDirectory = result.GetValue(Cli.WordNet)!,
            Seed = result.GetValue(Cli.Seed),
            SplitPunctuation = !result.GetValue(Cli.KeepPunctuation),
        };
    }

    private static Command CreateCommand()
    {
        var command = new Command(Name, "Writes WordNet synonym pairs against random pairs of the same frequency band, as a pairs file for the harness' --pairs.");
        foreach (var option in new Option[] { Cli.Out, Cli.Train, Cli.Corpus, Cli.WordNet, Cli.Seed, Cli.KeepPunctuation })
        {
            command.Options.Add(option);
        }

        return command;
    }

    private static class Cli
    {
        public static readonly Option<string?> Out = ToolCommandLine.OptionalText("--out",
            "The pairs file to write (required): word1<TAB>word2<TAB>1 (synonyms) or 0 (random pair of the same band).");
        public static readonly Option<string?> Train = ToolCommandLine.OptionalText("--train",
            "Labelled TSV (label<TAB>text) whose texts give the word counts; give the harness run's --train and --corpus, so bands are those of the embeddings' text.");
        public static readonly Option<string?> Corpus = ToolCommandLine.OptionalText("--corpus",
            "Unlabelled text, one document per line, counted too (at least one of --train and --corpus is required).");
        public static readonly Option<string> WordNet = ToolCommandLine.Text("--wordnet",
            "WordNet 3.0 dict folder with data.adj/adv/noun/verb (Debian wordnet-base).", "/usr/share/wordnet");
        public static readonly Option<int> Seed = ToolCommandLine.Int("--seed", "Seeds the draw of the random pairs.", 1, 0);
        public static readonly Option<bool> KeepPunctuation = ToolCommandLine.Flag("--keep-punctuation",
            "Count tokens with punctuation attached, as the stage does with SplitPunctuation = false (give it when the harness run has --keep-punctuation).");
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
