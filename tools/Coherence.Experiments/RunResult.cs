namespace Coherence.Experiments;

/// <summary>One run: a variant on one seed, with every figure measured (null where it does not apply).</summary>
internal sealed class RunResult
{
    public required string Variant { get; init; }
    public required int Seed { get; init; }
    public Dictionary<string, double?> Metrics { get; } = new(StringComparer.Ordinal);

    public double? this[string metric]
    {
        get => Metrics.TryGetValue(metric, out var v) ? v : null;
        set => Metrics[metric] = value is double d && double.IsFinite(d) ? d : null;
    }

    /// <summary>The metric names, in the order results.json and the summary use.</summary>
    public static readonly string[] MetricNames =
    [
        "accuracy", "macroF1", "trainAccuracy", "heldOutLabelAccuracy", "earlyStoppedStep", "labelledTrainingDocuments", "labelledHeldOutDocuments", "labelBatchSize", "perplexity", "initialPerplexity",
        "coherenceMean", "coherenceRare", "coherenceMedium", "coherenceFrequent",
        "chanceCorrectedCoherence", "chanceCorrectedCoherenceRare", "chanceCorrectedCoherenceMedium", "chanceCorrectedCoherenceFrequent",
        "neighborAgreement", "rareNeighborAgreement", "mediumNeighborAgreement", "frequentNeighborAgreement",
        "anisotropy", "effectiveRank", "isotropy",
        "pairsSpearman", "pairsAuc", "pairsFound", "pairsSkipped",
        "pairsAuc5to19", "pairsAuc20to99", "pairsAuc100plus", "pairsFound5to19", "pairsFound20to99", "pairsFound100plus",
        "vocabularySize", "rareTokens", "trainingTokens", "steps", "epochs", "tokensTrained", "labelledRows",
        "trainSeconds", "statisticsSeconds", "secondsPerStep", "tokensPerSecond", "peakMemoryMB",
        "featurizerSeconds", "classifierSeconds",
        "fitSeconds", "teacherSeconds", "teacherTexts", "teacherRows", "teacherExplainedVariance", "teacherLoss", "scoringRowsPerSecond", "modelBytes",
    ];
}

/// <summary>Mean and sample standard deviation of one metric over the seeds of one variant.</summary>
internal sealed record MetricSummary(double? Mean, double? Sd, int N)
{
    public static MetricSummary Of(IEnumerable<double?> values)
    {
        var kept = values.Where(v => v is not null).Select(v => v!.Value).ToArray();
        if (kept.Length == 0)
        {
            return new MetricSummary(null, null, 0);
        }

        var mean = kept.Average();
        var sd = kept.Length > 1 ? Math.Sqrt(kept.Sum(v => (v - mean) * (v - mean)) / (kept.Length - 1)) : 0;
        return new MetricSummary(mean, sd, kept.Length);
    }

    /// <summary>"mean ± sd" with <paramref name="format"/>, or "—" when there is nothing to summarise.</summary>
    public string Format(string format) => Mean is { } m ? $"{m.ToString(format, System.Globalization.CultureInfo.InvariantCulture)} ± {Sd!.Value.ToString(format, System.Globalization.CultureInfo.InvariantCulture)}" : "—";
}
