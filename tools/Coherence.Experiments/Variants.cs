namespace Coherence.Experiments;

/// <summary>
/// The harness' variants: their names, the order they run and report in, what each needs from another
/// variant's run, and which need the fastText tool. How an embedding variant sets the stage's options is
/// <see cref="ExperimentRunner.OptionsFor"/>, the one place for that mapping.
/// </summary>
internal static class Variants
{
    public const string FeaturizeText = "featurize-text";
    public const string Baseline = "baseline";
    public const string Sca = "sca";
    public const string FeaturizeTextPlusSca = "featurize-text+sca";
    public const string ScaLabel = "sca-label";
    public const string FeaturizeTextPlusScaLabel = "featurize-text+sca-label";
    public const string FastTextVectors = "fasttext-vectors";
    public const string FeaturizeTextPlusFastTextVectors = "featurize-text+fasttext-vectors";
    public const string FastTextSupervised = "fasttext-supervised";
    public const string FastTextSupervisedTuned = "fasttext-supervised-tuned";
    public const string TimeMatchedBaseline = "time-matched-baseline";
    public const string AlignmentOnly = "alignment-only";
    public const string UniformityOnly = "uniformity-only";
    public const string ScaSubwords = "sca-subwords";
    public const string ScaUntied = "sca-untied";

    /// <summary>Subword table rows of <see cref="ScaSubwords"/> (the size measured in docs/results/defaults.md).</summary>
    public const int SubwordBuckets = 32_768;

    /// <summary>Every variant, in the order of the report's tables.</summary>
    public static readonly string[] All =
    [
        FeaturizeText, Baseline, Sca, FeaturizeTextPlusSca, ScaLabel, FeaturizeTextPlusScaLabel, FastTextVectors, FeaturizeTextPlusFastTextVectors,
        FastTextSupervised, FastTextSupervisedTuned, TimeMatchedBaseline, AlignmentOnly, UniformityOnly, ScaSubwords, ScaUntied,
    ];

    /// <summary>The variants that train the coherence stage (and so have perplexity, coherence and cost figures).</summary>
    public static readonly string[] Embedding = [Baseline, Sca, ScaLabel, TimeMatchedBaseline, AlignmentOnly, UniformityOnly, ScaSubwords, ScaUntied];

    /// <summary>The variants that run the fastText command-line tool.</summary>
    public static readonly string[] FastText = [FastTextVectors, FeaturizeTextPlusFastTextVectors, FastTextSupervised, FastTextSupervisedTuned];

    /// <summary>One line per variant for the report.</summary>
    public static readonly IReadOnlyDictionary<string, string> Descriptions = new Dictionary<string, string>
    {
        [FeaturizeText] = "ML.NET FeaturizeText with its defaults (word and character n-grams)",
        [Baseline] = "the stage with both coherence weights 0",
        [Sca] = "the stage with the options as given (SCA)",
        [FeaturizeTextPlusSca] = "FeaturizeText's vector concatenated with the sca run's vector, one classifier",
        [ScaLabel] = "sca with the stage's label-aware mode: LabelColumnName set, exactly the classifier's labelled rows keep a label (every other train text is unlabelled)",
        [FeaturizeTextPlusScaLabel] = "FeaturizeText's vector concatenated with the sca-label run's vector, one classifier",
        [FastTextVectors] = "fastText skipgram vectors (its defaults) on the stage's training text, mean-pooled by ApplyWordEmbedding",
        [FeaturizeTextPlusFastTextVectors] = "FeaturizeText's vector concatenated with the pooled fastText vectors",
        [FastTextSupervised] = "fasttext supervised, its defaults, on the labelled train rows",
        [FastTextSupervisedTuned] = "fasttext supervised -epoch 25 -wordNgrams 2 -lr 0.5, on the labelled train rows",
        [TimeMatchedBaseline] = "weights 0, steps scaled so its training time matches that seed's sca run",
        [AlignmentOnly] = "the given options with uniformity weight 0",
        [UniformityOnly] = "the given options with coherence weight 0",
        [ScaSubwords] = "the given options with subwords (32,768 hashed character n-gram rows, lengths 3 to 5)",
        [ScaUntied] = "the given options with an untied output table (TieOutputEmbedding = false)",
    };

    /// <summary>Variants whose run another variant reuses: a choice of the key also runs (and reports) these.</summary>
    private static readonly IReadOnlyDictionary<string, string[]> Needs = new Dictionary<string, string[]>
    {
        [FeaturizeTextPlusSca] = [Sca],
        [FeaturizeTextPlusScaLabel] = [ScaLabel],
        [TimeMatchedBaseline] = [Baseline, Sca],
    };

    /// <summary>
    /// Parses a comma-separated list (for example "baseline,sca"; "all" is every variant) into the named
    /// variants, in report order, without prerequisites. Throws <see cref="InputException"/> naming
    /// <paramref name="option"/> and the valid names.
    /// </summary>
    public static IReadOnlyList<string> Parse(string option, string list)
    {
        var chosen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var raw in list.Split(','))
        {
            var name = raw.Trim();
            if (name.Length == 0)
            {
                throw new InputException($"option {option}: '{list}' has an empty variant name; valid: {string.Join(", ", All)} (comma-separated).");
            }

            if (name == "all")
            {
                chosen.UnionWith(All);
                continue;
            }

            if (!All.Contains(name, StringComparer.Ordinal))
            {
                throw new InputException($"option {option}: unknown variant '{name}'; valid: all, {string.Join(", ", All)}.");
            }

            chosen.Add(name);
        }

        return All.Where(chosen.Contains).ToArray();
    }

    /// <summary><paramref name="chosen"/> plus the variants they reuse, in report order.</summary>
    public static IReadOnlyList<string> WithPrerequisites(IEnumerable<string> chosen)
    {
        var set = new HashSet<string>(chosen, StringComparer.Ordinal);
        foreach (var v in set.ToArray())
        {
            if (Needs.TryGetValue(v, out var needs))
            {
                set.UnionWith(needs);
            }
        }

        return All.Where(set.Contains).ToArray();
    }
}
