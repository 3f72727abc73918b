using System.Globalization;
using Microsoft.ML.Coherence;

namespace Coherence.Experiments;

/// <summary>The harness' command line: inputs, seeds, output folder and the SCA model options.</summary>
internal sealed class ExperimentOptions
{
    public const string Usage = """
        usage: Coherence.Experiments --train TRAIN.tsv --test TEST.tsv [--corpus TEXT.txt] [--pairs PAIRS.tsv]
                                     [--seeds 3] [--variants all] [--label-fraction 1] [--out DIR] [--title NAME] [model options]
               Coherence.Experiments wordnet-pairs --help      (build WordNet synonym pairs for --pairs)

          --train, --test   headerless TSV: label<TAB>text
          --corpus          extra unlabelled text, one document per line; trains the embeddings with the train texts
          --pairs           word1<TAB>word2<TAB>score (word-similarity pairs; 0/1 scores also give a ROC AUC, overall and
                            by the rarer word's count in the embeddings' text: 5-19 / 20-99 / 100+)
          --seeds N         seeds 1..N (default 3); each seed runs every chosen variant on the same split
          --variants LIST   comma-separated, default all: featurize-text, baseline, sca, featurize-text+sca,
                            sca-label, featurize-text+sca-label,
                            fasttext-vectors, featurize-text+fasttext-vectors, fasttext-supervised,
                            fasttext-supervised-tuned, time-matched-baseline, alignment-only, uniformity-only
                            (featurize-text+sca also runs sca, featurize-text+sca-label sca-label; time-matched-baseline also runs baseline and sca;
                            the fasttext variants are skipped with a note when fasttext is not on PATH)
          --label-fraction F  share of the train rows, per label and seeded per seed, that keeps its label for the
                            classifiers (default 1); the embeddings and fastText's vectors still train on every train text
          --fasttext-dim N  dimension of fastText's skipgram vectors (default 100, fastText's default)
          --fasttext-threads N  threads per fastText run (default 2; 1 makes fastText reproducible bit for bit)
          --out DIR         output folder (default out/experiments): results.json, report.md, PNGs
          --title NAME      report title (default: the train file's folder name)
          --skip-featurize-text   leave out the featurize-text variant (same as leaving it out of --variants)
        model options (sca uses them as given; the other stage variants change only what their name says):
          --dim --layers --heads --context --steps --epochs --batch --lr --coherence-weight --uniformity-weight
          --temperature --min-count --max-vocab --window --neighbors --negatives --anchors --eval-interval
          --softmax-negatives --held-out --objective next-token|center-word --label-weight (sca-label's label weight)
          --keep-punctuation (punctuation stays attached to words; fastText's input and the word counts follow)
          (without --steps the stage sets its steps from --epochs, the library default when neither is given)
        evaluation: --k 10 (neighbour agreement k), --queries 2000 (sampled query tokens)
        """;

    public required string TrainPath { get; init; }
    public required string TestPath { get; init; }
    public string? CorpusPath { get; init; }
    public string? PairsPath { get; init; }
    public int Seeds { get; init; } = 3;
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
    public required CoherenceEmbeddingOptions Model { get; init; }

    /// <summary>Parses <paramref name="args"/>; returns null when help was asked for. Throws <see cref="InputException"/> on bad usage.</summary>
    public static ExperimentOptions? Parse(IReadOnlyList<string> args)
    {
        string? train = null, test = null, corpus = null, pairs = null, output = null, title = null;
        int seeds = 3, k = 10, queries = 2000;
        var skipFeaturize = false;
        IReadOnlyList<string> variants = Coherence.Experiments.Variants.All;
        double labelFraction = 1;
        int fastTextDimension = 100, fastTextThreads = 2;
        var model = new CoherenceEmbeddingOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (name is "-h" or "--help")
            {
                return null;
            }

            if (name == "--skip-featurize-text")
            {
                skipFeaturize = true;
                continue;
            }

            if (name == "--keep-punctuation")
            {
                model.SplitPunctuation = false;
                continue;
            }

            if (!name.StartsWith("--", StringComparison.Ordinal))
            {
                throw new InputException($"unexpected argument '{name}' (options start with --).");
            }

            if (i + 1 >= args.Count)
            {
                throw new InputException($"option {name} needs a value.");
            }

            var value = args[++i];
            switch (name)
            {
                case "--train": train = value; break;
                case "--test": test = value; break;
                case "--corpus": corpus = value; break;
                case "--pairs": pairs = value; break;
                case "--out": output = value; break;
                case "--title": title = value; break;
                case "--seeds": seeds = Int(name, value, 1); break;
                case "--variants": variants = Coherence.Experiments.Variants.Parse(name, value); break;
                case "--label-fraction": labelFraction = Fraction(name, value); break;
                case "--fasttext-dim": fastTextDimension = Int(name, value, 1); break;
                case "--fasttext-threads": fastTextThreads = Int(name, value, 1); break;
                case "--k": k = Int(name, value, 1); break;
                case "--queries": queries = Int(name, value, 1); break;
                case "--dim": model.EmbeddingDimension = Int(name, value, 1); break;
                case "--layers": model.Layers = Int(name, value, 0); break;
                case "--heads": model.Heads = Int(name, value, 1); break;
                case "--context": model.ContextLength = Int(name, value, 2); break;
                case "--steps": model.Steps = Int(name, value, 1); break;
                case "--epochs": model.Epochs = PositiveFloat(name, value); break;
                case "--objective": model.Objective = Objective(name, value); break;
                case "--batch": model.BatchSize = Int(name, value, 1); break;
                case "--lr": model.LearningRate = Float(name, value); break;
                case "--coherence-weight": model.CoherenceWeight = Float(name, value); break;
                case "--uniformity-weight": model.UniformityWeight = Float(name, value); break;
                case "--temperature": model.Temperature = Float(name, value); break;
                case "--min-count": model.MinCount = Int(name, value, 1); break;
                case "--max-vocab": model.MaxVocabularySize = Int(name, value, 2); break;
                case "--window": model.Window = Int(name, value, 1); break;
                case "--neighbors": model.NeighborCount = Int(name, value, 1); break;
                case "--negatives": model.CoherenceNegatives = Int(name, value, 1); break;
                case "--anchors": model.AnchorsPerStep = Int(name, value, 1); break;
                case "--softmax-negatives": model.SampledSoftmaxNegatives = Int(name, value, 0); break;
                case "--eval-interval": model.EvaluationInterval = Int(name, value, 0); break;
                case "--held-out": model.HeldOutFraction = Float(name, value); break;
                case "--label-weight": model.LabelWeight = Float(name, value); break;
                default: throw new InputException($"unknown option {name} (see --help for the valid options).");
            }
        }

        var requested = skipFeaturize ? variants.Where(v => v != Coherence.Experiments.Variants.FeaturizeText).ToArray() : variants;
        if (requested.Count == 0)
        {
            throw new InputException("option --variants: nothing left to run (--skip-featurize-text removed the only variant).");
        }

        if (train is null || test is null)
        {
            throw new InputException("--train and --test are required.");
        }

        return new ExperimentOptions
        {
            TrainPath = train,
            TestPath = test,
            CorpusPath = corpus,
            PairsPath = pairs,
            Seeds = seeds,
            OutputDirectory = output ?? Path.Combine("out", "experiments"),
            Title = title,
            RequestedVariants = requested,
            Variants = Coherence.Experiments.Variants.WithPrerequisites(requested),
            LabelFraction = labelFraction,
            FastTextDimension = fastTextDimension,
            FastTextThreads = fastTextThreads,
            NeighborK = k,
            QuerySample = queries,
            Model = model,
        };
    }

    private static int Int(string name, string value, int min) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= min
            ? v
            : throw new InputException($"option {name}: '{value}' is not an integer >= {min}.");

    private static double Fraction(string name, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v > 0 && v <= 1
            ? v
            : throw new InputException($"option {name}: '{value}' is not a number in (0, 1] (for example 0.1 keeps 10% of the labels).");

    private static float PositiveFloat(string name, string value) =>
        float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && float.IsFinite(v) && v > 0
            ? v
            : throw new InputException($"option {name}: '{value}' is not a number greater than 0.");

    private static CoherenceObjective Objective(string name, string value) => value switch
    {
        "next-token" => CoherenceObjective.NextToken,
        "center-word" => CoherenceObjective.CenterWord,
        _ => throw new InputException($"option {name}: '{value}' is not an objective; valid: next-token, center-word."),
    };

    private static float Float(string name, string value) =>
        float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && float.IsFinite(v) && v >= 0
            ? v
            : throw new InputException($"option {name}: '{value}' is not a non-negative number.");
}
