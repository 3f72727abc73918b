using System.CommandLine;
using Coherence.Tools;
using Microsoft.ML.Coherence;
using static Coherence.Tools.ToolCommandLine;

namespace Coherence.Experiments;

/// <summary>
/// The harness' command line (System.CommandLine, conventions in tools/Shared/ToolCommandLine.cs): inputs, seeds,
/// output folder and the SCA model options; <c>wordnet-pairs</c> is its subcommand (<see cref="WordNetPairsCommand"/>).
/// </summary>
internal sealed class ExperimentOptions
{
    public required string TrainPath { get; init; }
    public required string TestPath { get; init; }
    public string? CorpusPath { get; init; }
    public string? PairsPath { get; init; }
    public int Seeds { get; init; } = 3;
    /// <summary>The first seed; the run covers <see cref="FirstSeed"/> .. <see cref="LastSeed"/> (to finish a matrix a run left short).</summary>
    public int FirstSeed { get; init; } = 1;
    public int LastSeed => FirstSeed + Seeds - 1;
    public string OutputDirectory { get; init; } = Path.Combine("out", "experiments");
    public string? Title { get; init; }
    /// <summary>The variants the user asked for (--variants, less featurize-text with --skip-featurize-text).</summary>
    public IReadOnlyList<string> RequestedVariants { get; init; } = Coherence.Experiments.Variants.All;

    /// <summary>The variants to run: <see cref="RequestedVariants"/> and those they reuse, in report order.</summary>
    public IReadOnlyList<string> Variants { get; init; } = Coherence.Experiments.Variants.All;
    public double LabelFraction { get; init; } = 1;
    public int FastTextDimension { get; init; } = 100;
    public int FastTextThreads { get; init; } = 2;
    public int NeighborK { get; init; } = 10;
    public int QuerySample { get; init; } = 2000;
    /// <summary>The file that keeps the teacher's vectors across runs (its cache; see tools/Shared/CachedTeacher.cs).</summary>
    public string TeacherCache { get; init; } = DefaultTeacherCache;
    public const string DefaultTeacherCache = "out/teacher-cache/all-MiniLM-L6-v2.bin";
    public required CoherenceEmbeddingOptions Model { get; init; }

    /// <summary>The harness' root command, with the <c>wordnet-pairs</c> subcommand; built once.</summary>
    public static RootCommand Command { get; } = CreateCommand();

    /// <summary>Parses <paramref name="args"/>; returns null when help was asked for. Throws <see cref="InputException"/> on bad usage.</summary>
    public static ExperimentOptions? Parse(IReadOnlyList<string> args)
    {
        var result = ToolCommandLine.Parse(Command, args);
        return IsHelp(result) ? null : From(result);
    }

    /// <summary>The options of a parsed root command. Throws <see cref="InputException"/> on bad usage.</summary>
    public static ExperimentOptions From(ParseResult result)
    {
        if (FirstError(result) is { } error)
        {
            throw new InputException(error);
        }

        var variants = Coherence.Experiments.Variants.Parse("--variants", result.GetValue(Cli.Variants)!);
        var requested = result.GetValue(Cli.SkipFeaturizeText) ? variants.Where(v => v != Coherence.Experiments.Variants.FeaturizeText).ToArray() : variants;
        if (requested.Count == 0)
        {
            throw new InputException("option --variants: nothing left to run (--skip-featurize-text removed the only variant).");
        }

        string? train = result.GetValue(Cli.Train), test = result.GetValue(Cli.Test);
        if (train is null || test is null)
        {
            throw new InputException("--train and --test are required.");
        }

        var model = new CoherenceEmbeddingOptions
        {
            EmbeddingDimension = result.GetValue(Cli.Dimension),
            Layers = result.GetValue(Cli.Layers),
            Heads = result.GetValue(Cli.Heads),
            ContextLength = result.GetValue(Cli.Context),
            Steps = result.GetValue(Cli.Steps),
            Epochs = result.GetValue(Cli.Epochs),
            BatchSize = result.GetValue(Cli.Batch),
            LearningRate = result.GetValue(Cli.LearningRate),
            CoherenceWeight = result.GetValue(Cli.CoherenceWeight),
            UniformityWeight = result.GetValue(Cli.UniformityWeight),
            Temperature = result.GetValue(Cli.Temperature),
            MinCount = result.GetValue(Cli.MinCount),
            MaxVocabularySize = result.GetValue(Cli.MaxVocabulary),
            Window = result.GetValue(Cli.Window),
            NeighborCount = result.GetValue(Cli.Neighbors),
            CoherenceNegatives = result.GetValue(Cli.Negatives),
            AnchorsPerStep = result.GetValue(Cli.Anchors),
            SampledSoftmaxNegatives = result.GetValue(Cli.SoftmaxNegatives),
            EvaluationInterval = result.GetValue(Cli.EvaluationInterval),
            HeldOutFraction = result.GetValue(Cli.HeldOut),
            LabelWeight = result.GetValue(Cli.LabelWeight),
            SplitPunctuation = !result.GetValue(Cli.KeepPunctuation),
        };
        return new ExperimentOptions
        {
            TrainPath = train,
            TestPath = test,
            CorpusPath = result.GetValue(Cli.Corpus),
            PairsPath = result.GetValue(Cli.Pairs),
            Seeds = result.GetValue(Cli.Seeds),
            FirstSeed = result.GetValue(Cli.FirstSeed),
            OutputDirectory = result.GetValue(Cli.Out)!,
            Title = result.GetValue(Cli.Title),
            RequestedVariants = requested,
            Variants = Coherence.Experiments.Variants.WithPrerequisites(requested),
            LabelFraction = result.GetValue(Cli.LabelFraction),
            FastTextDimension = result.GetValue(Cli.FastTextDimension),
            FastTextThreads = result.GetValue(Cli.FastTextThreads),
            NeighborK = result.GetValue(Cli.K),
            QuerySample = result.GetValue(Cli.Queries),
            TeacherCache = result.GetValue(Cli.TeacherCache)!,
            Model = model,
        };
    }

    private static RootCommand CreateCommand()
    {
        var root = new RootCommand(
            "The experiment harness: on one labelled split and for several seeds, trains the stage's variants (SCA, its " +
            "weights-0 baseline, a time-matched baseline, ablations) and compares them with FeaturizeText, their concatenation " +
            "and fastText's peers; writes results.json, report.md and PNG plots. Exit code 2 on usage or input errors.");
        foreach (var option in Cli.All)
        {
            root.Options.Add(option);
        }

        root.Subcommands.Add(WordNetPairsCommand.Command);

        // A root with subcommands and no action of its own would demand a subcommand; Program.cs runs the harness
        // itself after From(parse), so the action only marks the root as runnable.
        root.SetAction(_ => 0);
        return root;
    }

    /// <summary>The root command's options, one field each (their names and defaults are the harness' interface).</summary>
    private static class Cli
    {
        private static readonly CoherenceEmbeddingOptions D = new();

        public static readonly Option<string?> Train = OptionalText("--train", "Labelled training split: headerless TSV, label<TAB>text (required).");
        public static readonly Option<string?> Test = OptionalText("--test", "Labelled test split, same format as --train (required).");
        public static readonly Option<string?> Corpus = OptionalText("--corpus", "Extra unlabelled text, one document per line; trains the embeddings with the train texts.");
        public static readonly Option<string?> Pairs = OptionalText("--pairs",
            "Word-similarity pairs: word1<TAB>word2<TAB>score (0/1 scores also give a ROC AUC, overall and by the rarer word's count: 5-19 / 20-99 / 100+).");
        public static readonly Option<int> Seeds = Int("--seeds", "How many seeds: --first-seed .. --first-seed + N - 1; each seed runs every chosen variant on the same split.", 3, 1);
        public static readonly Option<int> FirstSeed = Int("--first-seed", "The first seed (a later seed alone finishes a matrix whose run was cut short).", 1, 1);
        public static readonly Option<string> Variants = Converted("--variants",
            $"Comma-separated variants, or all: {string.Join(", ", Coherence.Experiments.Variants.All)}. featurize-text+sca also runs sca, featurize-text+sca-label sca-label; " +
            "time-matched-baseline also runs baseline and sca; the fasttext variants are skipped with a note when fasttext is not on PATH.",
            text => Wrap(() =>
            {
                Coherence.Experiments.Variants.Parse("--variants", text); // checks the names; From parses again
                return text;
            }), () => "all");
        public static readonly Option<double> LabelFraction = Checked("--label-fraction",
            "Share of the train rows, per label and seeded per seed, that keeps its label for the classifiers; the embeddings and fastText's vectors still train on every train text.",
            DoubleWhere(v => v > 0 && v <= 1), "a number in (0, 1] (for example 0.1 keeps 10% of the labels)", () => 1.0);
        public static readonly Option<int> FastTextDimension = Int("--fasttext-dim", "Dimension of fastText's skipgram vectors (fastText's default).", 100, 1);
        public static readonly Option<int> FastTextThreads = Int("--fasttext-threads", "Threads per fastText run; 1 makes fastText reproducible bit for bit.", 2, 1);
        public static readonly Option<string> Out = Text("--out", "Output folder: results.json, report.md, PNGs.", Path.Combine("out", "experiments"));
        public static readonly Option<string?> Title = OptionalText("--title", "Report title (default: the train file's folder name).");
        public static readonly Option<string> TeacherCache = Text("--teacher-cache",
            "File that keeps the teacher's vectors (all-MiniLM-L6-v2) across runs, so the teacher variants embed each split once.", DefaultTeacherCache);
        public static readonly Option<bool> SkipFeaturizeText = Flag("--skip-featurize-text", "Leave out the featurize-text variant (same as leaving it out of --variants).");

        // Model options: sca uses them as given; the other stage variants change only what their name says.
        public static readonly Option<int> Dimension = Int("--dim", "Embedding dimension d.", D.EmbeddingDimension, 1);
        public static readonly Option<int> Layers = Int("--layers", "Transformer layers (0: static embeddings).", D.Layers, 0);
        public static readonly Option<int> Heads = Int("--heads", "Attention heads.", D.Heads, 1);
        public static readonly Option<int> Context = Int("--context", "Context length in tokens.", D.ContextLength, 2);
        public static readonly Option<int?> Steps = OptionalInt("--steps", "Optimiser steps (default: set from --epochs).", 1);
        public static readonly Option<float> Epochs = Checked("--epochs", "Passes over the training tokens, used when --steps is not given.",
            FloatWhere(v => v > 0), "a number greater than 0", () => D.Epochs);
        public static readonly Option<int> Batch = Int("--batch", "Sequences per step.", D.BatchSize, 1);
        public static readonly Option<float> LearningRate = NonNegative("--lr", "Peak learning rate.", D.LearningRate);
        public static readonly Option<float> CoherenceWeight = NonNegative("--coherence-weight", "Coherence weight of sca (the baseline: 0).", D.CoherenceWeight);
        public static readonly Option<float> UniformityWeight = NonNegative("--uniformity-weight", "Uniformity weight of sca (the baseline: 0).", D.UniformityWeight);
        public static readonly Option<float> Temperature = NonNegative("--temperature", "Temperature tau of the alignment softmax.", D.Temperature);
        public static readonly Option<int> MinCount = Int("--min-count", "Smallest count of a vocabulary token.", D.MinCount, 1);
        public static readonly Option<int> MaxVocabulary = Int("--max-vocab", "Largest vocabulary.", D.MaxVocabularySize, 2);
        public static readonly Option<int> Window = Int("--window", "Co-occurrence window.", D.Window, 1);
        public static readonly Option<int> Neighbors = Int("--neighbors", "Statistical neighbours K per token.", D.NeighborCount, 1);
        public static readonly Option<int> Negatives = Int("--negatives", "Negatives of the alignment loss.", D.CoherenceNegatives, 1);
        public static readonly Option<int> Anchors = Int("--anchors", "Alignment anchors per step.", D.AnchorsPerStep, 1);
        public static readonly Option<int> SoftmaxNegatives = Int("--softmax-negatives", "Sampled-softmax negatives (0: full softmax).", D.SampledSoftmaxNegatives, 0);
        public static readonly Option<int> EvaluationInterval = Int("--eval-interval", "Steps between held-out evaluations (0: only at the end).", D.EvaluationInterval, 0);
        public static readonly Option<float> HeldOut = NonNegative("--held-out", "Held-out fraction of the documents (for perplexity).", D.HeldOutFraction);
        public static readonly Option<float> LabelWeight = NonNegative("--label-weight", "Label weight of sca-label (the stage's label-aware mode).", D.LabelWeight);
        public static readonly Option<bool> KeepPunctuation = Flag("--keep-punctuation",
            "Punctuation stays attached to words; fastText's input and the word counts follow.");

        // Evaluation.
        public static readonly Option<int> K = Int("--k", "Neighbour agreement k.", 10, 1);
        public static readonly Option<int> Queries = Int("--queries", "Query tokens sampled for neighbour agreement.", 2000, 1);

        public static readonly Option[] All =
        [
            Train, Test, Corpus, Pairs, Seeds, FirstSeed, Variants, LabelFraction, FastTextDimension, FastTextThreads, Out, Title, SkipFeaturizeText,
            Dimension, Layers, Heads, Context, Steps, Epochs, Batch, LearningRate, CoherenceWeight, UniformityWeight, Temperature,
            MinCount, MaxVocabulary, Window, Neighbors, Negatives, Anchors, SoftmaxNegatives, EvaluationInterval, HeldOut, LabelWeight, KeepPunctuation,
            K, Queries, TeacherCache,
        ];

        private static Option<float> NonNegative(string name, string description, float defaultValue) =>
            Checked(name, description, FloatWhere(v => v >= 0), "a non-negative number", () => defaultValue);

        private static T Wrap<T>(Func<T> parse)
        {
            try
            {
                return parse();
            }
            catch (InputException e)
            {
                throw new FormatException(e.Message, e);
            }
        }
    }
}
