using System.CommandLine;
using System.CommandLine.Parsing;
using Coherence.Tools;

namespace Coherence.Benchmarks;

/// <summary>The benchmarks' command line (System.CommandLine, conventions in tools/Shared/ToolCommandLine.cs).</summary>
internal sealed record BenchmarkArguments
{
    /// <summary>The modes, in the order --help lists them.</summary>
    public static readonly string[] Modes = ["all", "training", "counting", "paired", "scoring", "downstream", "memory"];

    /// <summary>The most steps of the training mode: the trainer logs progress every step only up to 200 steps.</summary>
    public const int MaxTrainingSteps = 200;

    public string Mode { get; init; } = "all";
    public int Steps { get; init; } = 60;
    public int Repeats { get; init; } = 1;
    public string CorpusPath { get; init; } = "";
    public string OutDirectory { get; init; } = "";
    public bool SkipFastText { get; init; }
    public (int Layers, string Variant)? Child { get; init; }

    /// <summary>Downstream mode: the labelled folder (train.tsv, test.tsv) and the training rows read from it.</summary>
    public string LabelledDirectory { get; init; } = "";
    public int Rows { get; init; } = 10_000;

    /// <summary>Memory mode: millions of characters of text, characters a row (0: one row), Fit + Dispose cycles after.</summary>
    public int Megabytes { get; init; } = 20;

    /// <inheritdoc cref="Megabytes"/>
    public int RowBytes { get; init; } = 1000;

    /// <inheritdoc cref="Megabytes"/>
    public int Cycles { get; init; }

    /// <summary>Paired mode: Option=value settings of the stage applied to both variants (the baseline keeps its coherence weights at 0).</summary>
    public IReadOnlyList<string> Settings { get; init; } = [];

    /// <summary>The root command, built once.</summary>
    public static RootCommand Command { get; } = CreateCommand();

    /// <summary>
    /// The arguments of <paramref name="result"/>; throws <see cref="ArgumentException"/> with a message that names
    /// the option and what is valid.
    /// </summary>
    public static BenchmarkArguments From(ParseResult result)
    {
        if (ToolCommandLine.FirstError(result) is { } error)
        {
            throw new ArgumentException(error);
        }

        string mode = result.GetValue(Cli.Mode)!;
        int steps = result.GetValue(Cli.Steps);
        if (steps > MaxTrainingSteps && mode is "training" or "all")
        {
            throw new ArgumentException($"option --steps: '{steps}' is more than {MaxTrainingSteps}, the most for the {mode} mode " +
                "(the trainer logs progress every step only up to 200 steps); paired takes more.");
        }

        string root = BenchmarkEnvironment.RepositoryRoot();
        string corpus = Path.GetFullPath(result.GetValue(Cli.Corpus) ?? Path.Combine(root, "data", "sample", "corpus.txt"));
        if (!File.Exists(corpus))
        {
            throw new ArgumentException($"option --corpus: '{corpus}' does not exist.");
        }

        (int, string)? child = null;
        if (result.GetValue(Cli.Child) is { Length: 2 } childValues)
        {
            child = (int.Parse(childValues[0], System.Globalization.CultureInfo.InvariantCulture), childValues[1]);
        }

        return new BenchmarkArguments
        {
            Mode = mode,
            Steps = steps,
            Repeats = result.GetValue(Cli.Repeats),
            CorpusPath = corpus,
            OutDirectory = result.GetValue(Cli.Out) ?? Path.Combine(root, "benchmarks", "results"),
            SkipFastText = result.GetValue(Cli.SkipFastText),
            Child = child,
            Settings = result.GetValue(Cli.Set) ?? [],
            LabelledDirectory = LabelledFolder(result.GetValue(Cli.Labelled) ?? Path.Combine(root, "data", "sample", "wordnet")),
            Rows = result.GetValue(Cli.Rows),
            Megabytes = result.GetValue(Cli.Megabytes),
            RowBytes = result.GetValue(Cli.RowBytes),
            Cycles = result.GetValue(Cli.Cycles),
        };
    }

    private static string LabelledFolder(string folder)
    {
        string full = Path.GetFullPath(folder);
        foreach (string file in new[] { "train.tsv", "test.tsv" })
        {
            if (!File.Exists(Path.Combine(full, file)))
                throw new ArgumentException($"option --labelled: '{full}' has no {file} (a folder of label<TAB>text files, e.g. data/full/wordnet).");
        }
        return full;
    }

    private static RootCommand CreateCommand()
    {
        var root = new RootCommand(
            "Cost benchmarks of Microsoft.ML.Coherence (benchmarks/README.md): training time per step, tokens/s and peak memory " +
            "growth with and without SCA, counting throughput, paired baseline-vs-SCA timing next to fastText, scoring throughput.");
        root.Arguments.Add(Cli.Mode);
        foreach (var option in new Option[] { Cli.Steps, Cli.Repeats, Cli.Corpus, Cli.Out, Cli.SkipFastText, Cli.Set, Cli.Child, Cli.Labelled, Cli.Rows, Cli.Megabytes, Cli.RowBytes, Cli.Cycles })
        {
            root.Options.Add(option);
        }

        return root;
    }

    private static class Cli
    {
        public static readonly Argument<string> Mode = ToolCommandLine.CheckedArgument("mode",
            "all (training and counting), training, counting, paired (baseline and SCA steps in turn in one process, then fastText " +
            "skip-gram and cbow on the same text), scoring, or downstream (SDCA iterations and fit time on FeaturizeText alone and " +
            "next to the stage, one process; --repeats seeds), or memory (peak memory of one Fit on --megabytes of text in rows of --row-bytes; --cycles).",
            ToolCommandLine.OneOf(Modes), $"a mode; valid: {string.Join(", ", Modes)}", () => "all");

        public static readonly Option<int> Steps = ToolCommandLine.Int("--steps",
            $"Optimiser steps per run: the benchmark's budget (at least 8, since the first 5 steps and the last are not timed; " +
            $"at most {MaxTrainingSteps} for training and all).", 60, 8);

        public static readonly Option<int> Repeats = ToolCommandLine.Int("--repeats", "Runs of each (layers, variant) in the training mode; medians are reported.", 1, 1);
        public static readonly Option<string?> Corpus = ToolCommandLine.OptionalText("--corpus", "The training text, one document per line (default: data/sample/corpus.txt).");
        public static readonly Option<string?> Out = ToolCommandLine.OptionalText("--out", "Folder of the JSON results (default: benchmarks/results).");
        public static readonly Option<bool> SkipFastText = ToolCommandLine.Flag("--skip-fasttext", "Paired mode: do not run fastText (it is skipped with a note anyway when the fasttext command is missing).");

        public static readonly Option<string?> Labelled = ToolCommandLine.OptionalText("--labelled",
            "Downstream mode: a folder with train.tsv and test.tsv, label<TAB>text (default: data/sample/wordnet).");

        public static readonly Option<int> Megabytes = ToolCommandLine.Int("--megabytes", "Memory mode: millions of characters of text (the corpus repeated).", 20, 1);
        public static readonly Option<int> RowBytes = ToolCommandLine.Int("--row-bytes", "Memory mode: characters a row; 0 for the whole text in one row.", 1000, 0);
        public static readonly Option<int> Cycles = ToolCommandLine.Int("--cycles", "Memory mode: Fit + Dispose cycles of the spam sample to run after (0 for none).", 0, 0);
        public static readonly Option<int> Rows = ToolCommandLine.Int("--rows", "Downstream mode: training rows read (test rows: a third of it).", 10_000, 10);

        public static readonly Option<string[]?> Set = CreateSet();

        public static readonly Option<string[]?> Child = CreateChild();

        private static Option<string[]?> CreateSet()
        {
            var option = new Option<string[]?>("--set")
            {
                Description = "Paired mode: a CoherenceEmbeddingOptions setting for both variants, e.g. --set AnchorsPerStep=64 (repeatable); " +
                    "the baseline keeps both coherence weights at 0. For cost-versus-quality probes; quality comes from the harness.",
                AllowMultipleArgumentsPerToken = false,
                HelpName = "Option=value",
            };
            option.Validators.Add(r =>
            {
                foreach (var token in r.Tokens)
                {
                    if (OptionAssignment.Check(token.Value) is { } error)
                        r.AddError($"option --set: {error}");
                }
            });
            return option;
        }

        private static Option<string[]?> CreateChild()
        {
            var option = new Option<string[]?>("--child")
            {
                Description = "Internal: run one training variant (LAYERS baseline|sca) in this process and print its result as one JSON line.",
                Arity = new ArgumentArity(2, 2),
                AllowMultipleArgumentsPerToken = true,
                HelpName = "LAYERS VARIANT",
            };
            option.Validators.Add(r =>
            {
                var values = r.Tokens.Select(t => t.Value).ToArray();
                if (values.Length == 2 && (!ToolCommandLine.IntAtLeast(0)(values[0], out _) || values[1] is not ("baseline" or "sca")))
                {
                    r.AddError($"option --child: '{string.Join(' ', values)}' is not LAYERS VARIANT (an integer >= 0, then baseline or sca).");
                }
            });
            return option;
        }
    }
}
