using System.Globalization;
using Microsoft.ML.Coherence;

namespace Coherence.Experiments;

/// <summary>The harness' command line: inputs, seeds, output folder and the SCA model options.</summary>
internal sealed class ExperimentOptions
{
    public const string Usage = """
        usage: Coherence.Experiments --train TRAIN.tsv --test TEST.tsv [--corpus TEXT.txt] [--pairs PAIRS.tsv]
                                     [--seeds 3] [--out DIR] [--title NAME] [model options]

          --train, --test   headerless TSV: label<TAB>text
          --corpus          extra unlabelled text, one document per line; trains the embeddings with the train texts
          --pairs           word1<TAB>word2<TAB>score (word-similarity pairs; 0/1 scores also give a ROC AUC)
          --seeds N         seeds 1..N (default 3); each seed runs baseline, SCA and FeaturizeText
          --out DIR         output folder (default out/experiments): results.json, report.md, PNGs
          --title NAME      report title (default: the train file's folder name)
          --skip-featurize-text   leave out the FeaturizeText variant
        model options (SCA uses them as given; the baseline uses them with both weights set to 0):
          --dim --layers --heads --context --steps --batch --lr --coherence-weight --uniformity-weight
          --temperature --min-count --max-vocab --window --neighbors --negatives --anchors --eval-interval
          --softmax-negatives --held-out
        evaluation: --k 10 (neighbour agreement k), --queries 2000 (sampled query tokens)
        """;

    public required string TrainPath { get; init; }
    public required string TestPath { get; init; }
    public string? CorpusPath { get; init; }
    public string? PairsPath { get; init; }
    public int Seeds { get; init; } = 3;
    public string OutputDirectory { get; init; } = Path.Combine("out", "experiments");
    public string? Title { get; init; }
    public bool SkipFeaturizeText { get; init; }
    public int NeighborK { get; init; } = 10;
    public int QuerySample { get; init; } = 2000;
    public required CoherenceEmbeddingOptions Model { get; init; }

    /// <summary>Parses <paramref name="args"/>; returns null when help was asked for. Throws <see cref="InputException"/> on bad usage.</summary>
    public static ExperimentOptions? Parse(IReadOnlyList<string> args)
    {
        string? train = null, test = null, corpus = null, pairs = null, output = null, title = null;
        int seeds = 3, k = 10, queries = 2000;
        var skipFeaturize = false;
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
                case "--k": k = Int(name, value, 1); break;
                case "--queries": queries = Int(name, value, 1); break;
                case "--dim": model.EmbeddingDimension = Int(name, value, 1); break;
                case "--layers": model.Layers = Int(name, value, 0); break;
                case "--heads": model.Heads = Int(name, value, 1); break;
                case "--context": model.ContextLength = Int(name, value, 2); break;
                case "--steps": model.Steps = Int(name, value, 1); break;
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
                default: throw new InputException($"unknown option {name}.");
            }
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
            SkipFeaturizeText = skipFeaturize,
            NeighborK = k,
            QuerySample = queries,
            Model = model,
        };
    }

    private static int Int(string name, string value, int min) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= min
            ? v
            : throw new InputException($"option {name}: '{value}' is not an integer >= {min}.");

    private static float Float(string name, string value) =>
        float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && float.IsFinite(v) && v >= 0
            ? v
            : throw new InputException($"option {name}: '{value}' is not a non-negative number.");
}
