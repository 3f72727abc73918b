using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Coherence.Experiments;

/// <summary>A column of a per-variant table: metric, header, number format.</summary>
internal sealed record ReportColumn(string Metric, string Label, string Format);

/// <summary>Writes results.json and report.md.</summary>
internal static class ResultsWriter
{
    /// <summary>What every variant is judged on: the downstream classifier's test scores and what training cost.</summary>
    public static readonly ReportColumn[] ClassificationColumns =
    [
        new("accuracy", "accuracy", "F4"),
        new("macroF1", "macro-F1", "F4"),
        new("trainAccuracy", "train accuracy (labelled train rows)", "F4"),
        new("heldOutLabelAccuracy", "stage's held-out label accuracy", "F4"),
        new("trainSeconds", "training s (embeddings or fastText)", "F1"),
        new("featurizerSeconds", "featurizer fit s", "F1"),
        new("classifierSeconds", "classifier s", "F1"),
        new("scoringRowsPerSecond", "scoring rows/s (stage or teacher, test rows)", "F0"),
        new("fitSeconds", "stage Fit s (teacher calls included)", "F1"),
        new("teacherSeconds", "teacher s in Fit", "F1"),
        new("modelBytes", "saved stage bytes", "F0"),
    ];

    /// <summary>The console's summary: the same figures as <see cref="ClassificationColumns"/>, fewer and with short headers.</summary>
    public static readonly ReportColumn[] ConsoleColumns =
    [
        new("accuracy", "accuracy", "F4"),
        new("macroF1", "macro-F1", "F4"),
        new("trainSeconds", "train s", "F0"),
    ];

    /// <summary>Figures of an embedding table (the stage's variants; fastText's vectors have the matrix-level ones).</summary>
    public static readonly ReportColumn[] EmbeddingColumns =
    [
        new("steps", "steps", "F0"),
        new("epochs", "epochs", "F2"),
        new("perplexity", "held-out perplexity", "F1"),
        new("coherenceMean", "coherence (mean)", "F3"),
        new("chanceCorrectedCoherence", "chance-corrected coherence", "F3"),
        new("neighborAgreement", "neighbour agreement (circular)", "F3"),
        new("anisotropy", "anisotropy", "F3"),
        new("effectiveRank", "effective rank", "F1"),
        new("vocabularySize", "vocabulary", "F0"),
        new("secondsPerStep", "s/step", "F4"),
        new("tokensPerSecond", "tokens/s", "F0"),
        new("peakMemoryMB", "peak MB", "F0"),
    ];

    /// <summary>Word-pair figures: ROC AUC of cosine overall and by the rarer word's count band, and how many pairs were found.</summary>
    public static readonly ReportColumn[] PairColumns =
    [
        new("pairsAuc", "AUC (all pairs)", "F3"),
        new("pairsAuc5to19", "AUC 5-19", "F3"),
        new("pairsAuc20to99", "AUC 20-99", "F3"),
        new("pairsAuc100plus", "AUC 100+", "F3"),
        new("pairsFound5to19", "pairs 5-19", "F0"),
        new("pairsFound20to99", "pairs 20-99", "F0"),
        new("pairsFound100plus", "pairs 100+", "F0"),
        new("pairsSkipped", "pairs out of vocabulary", "F0"),
    ];

    public static Dictionary<string, Dictionary<string, MetricSummary>> Summarise(IReadOnlyList<RunResult> results) =>
        Variants.All.Where(v => results.Any(r => r.Variant == v)).ToDictionary(
            v => v,
            v => RunResult.MetricNames.ToDictionary(m => m, m => MetricSummary.Of(results.Where(r => r.Variant == v).Select(r => r[m]))));

    /// <summary>The cells of a per-variant table: one row per variant that has any of the columns' metrics.</summary>
    public static List<(string Variant, string[] Cells)> Rows(IReadOnlyList<RunResult> results, IReadOnlyList<ReportColumn> columns)
    {
        var rows = new List<(string, string[])>();
        foreach (var (variant, s) in Summarise(results))
        {
            if (columns.Any(c => s[c.Metric].N > 0))
            {
                rows.Add((variant, columns.Select(c => s[c.Metric].Format(c.Format)).ToArray()));
            }
        }

        return rows;
    }

    /// <summary>A markdown table: rows are variants, columns the given metrics (mean ± sd over seeds).</summary>
    public static string Table(IReadOnlyList<RunResult> results, IReadOnlyList<ReportColumn> columns)
    {
        var sb = new StringBuilder();
        sb.Append("| variant |");
        foreach (var c in columns)
        {
            sb.Append(CultureInfo.InvariantCulture, $" {c.Label} |");
        }

        sb.AppendLine().Append("|---|");
        foreach (var _ in columns)
        {
            sb.Append("---:|");
        }

        sb.AppendLine();
        foreach (var (variant, cells) in Rows(results, columns))
        {
            sb.Append(CultureInfo.InvariantCulture, $"| {variant} |");
            foreach (var cell in cells)
            {
                sb.Append(CultureInfo.InvariantCulture, $" {cell} |");
            }

            sb.AppendLine();
        }

        return sb.ToString();
    }

    public static void WriteJson(string path, IReadOnlyList<RunResult> results, JsonObject settings)
    {
        var runs = new JsonArray();
        foreach (var r in results)
        {
            var o = new JsonObject { ["variant"] = r.Variant, ["seed"] = r.Seed };
            foreach (var m in RunResult.MetricNames)
            {
                o[m] = r[m] is double v ? JsonValue.Create(v) : null;
            }

            runs.Add(o);
        }

        var summary = new JsonObject();
        foreach (var (variant, metrics) in Summarise(results))
        {
            var s = new JsonObject();
            foreach (var (m, ms) in metrics)
            {
                s[m] = new JsonObject { ["mean"] = ms.Mean is double a ? JsonValue.Create(a) : null, ["sd"] = ms.Sd is double b ? JsonValue.Create(b) : null, ["n"] = ms.N };
            }

            summary[variant] = s;
        }

        var root = new JsonObject { ["settings"] = settings, ["runs"] = runs, ["summary"] = summary };
        Microsoft.ML.Coherence.Internal.AtomicFile.WriteAllText(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>Per-token figures by the stage's frequency buckets, one column per stage variant that ran.</summary>
    public static string BucketTable(IReadOnlyList<RunResult> results)
    {
        var summary = Summarise(results);
        var variants = Variants.Embedding.Where(summary.ContainsKey).ToArray();
        var sb = new StringBuilder();
        sb.Append("| metric | bucket |");
        foreach (var v in variants)
        {
            sb.Append(CultureInfo.InvariantCulture, $" {v} |");
        }

        sb.AppendLine().Append("|---|---|");
        foreach (var _ in variants)
        {
            sb.Append("---:|");
        }

        sb.AppendLine();
        foreach (var (prefix, label) in new[] { ("coherence", "coherence"), ("chanceCorrectedCoherence", "chance-corrected coherence"), ("NeighborAgreement", "neighbour agreement (circular)") })
        {
            foreach (var bucket in new[] { "Rare", "Medium", "Frequent" })
            {
                var metric = prefix == "NeighborAgreement" ? bucket.ToLowerInvariant() + prefix : prefix + bucket;
                sb.Append(CultureInfo.InvariantCulture, $"| {label} | {bucket.ToLowerInvariant()} |");
                foreach (var v in variants)
                {
                    sb.Append(CultureInfo.InvariantCulture, $" {summary[v][metric].Format("F3")} |");
                }

                sb.AppendLine();
            }
        }

        return sb.ToString();
    }

    public static void WriteReport(string path, string title, ExperimentOptions options, IReadOnlyList<RunResult> results,
        IReadOnlyList<string> settingsLines, IReadOnlyList<string> variantLines, IReadOnlyList<string> notes,
        IReadOnlyList<(string File, string Caption)> figures, TimeSpan wall, bool peakReset)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"# Coherence experiment: {title}").AppendLine();
        sb.AppendLine("Generated by `tools/Coherence.Experiments`. Mean ± sample standard deviation over seeds; every variant uses the same split, the same rows with labels, and (except fastText's own classifier) the same downstream classifier. The baseline is the stage with coherence weight 0 and uniformity weight 0, otherwise identical to sca.").AppendLine();
        sb.AppendLine("## Settings").AppendLine();
        foreach (var line in settingsLines)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"- {line}");
        }

        sb.AppendLine(CultureInfo.InvariantCulture, $"- downstream classifier (every variant but fasttext-supervised*): {ExperimentRunner.Downstream}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- wall time of the whole harness run: {wall.TotalMinutes:F1} min").AppendLine();
        sb.AppendLine("## Variants").AppendLine();
        foreach (var line in variantLines)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"- {line}");
        }

        sb.AppendLine();
        sb.AppendLine("## Results").AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"Test-split classification ({(options.LabelFraction < 1 ? $"label fraction {options.LabelFraction:0.###}: the classifiers saw {options.LabelFraction * 100:0.#}% of the train labels" : "all train labels")}):").AppendLine();
        sb.AppendLine(Table(results, ClassificationColumns));
        sb.AppendLine("Embedding tables:").AppendLine();
        sb.AppendLine(Table(results, EmbeddingColumns));
        if (results.Any(r => r["pairsAuc"] is not null))
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"Word pairs (`{options.PairsPath}`): ROC AUC of cosine, by the rarer word's count in the embeddings' training text. Independent of the training field, unlike neighbour agreement.").AppendLine();
            sb.AppendLine(Table(results, PairColumns));
        }

        if (results.Any(r => Variants.Embedding.Contains(r.Variant)))
        {
            sb.AppendLine("The stage's per-token figures by frequency bucket (rare: count < 10, medium: 10-99, frequent: >= 100 in the embedding corpus):").AppendLine();
            sb.AppendLine(BucketTable(results));
        }

        if (notes.Count > 0)
        {
            sb.AppendLine("Notes:").AppendLine();
            foreach (var note in notes)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"- {note}");
            }

            sb.AppendLine();
        }

        sb.AppendLine("## How to read these numbers").AppendLine();
        sb.AppendLine("- **perplexity** is the library's held-out perplexity (full softmax) on the documents the estimator holds out of its own training text (`HeldOutFraction`), not on the test split. Runs with different step counts (the time-matched baseline) are compared at their own ends.");
        sb.AppendLine("- **coherence** is the raw Rayleigh-quotient score c_i; it rewards collapse (a table whose rows lie in few directions scores near 1), so read it next to **chance-corrected coherence** (kappa_i = (c_i - b_i)/(1 - b_i), b_i the score against a random token's context), **anisotropy** (mean pairwise cosine) and **effective rank**.");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- **neighbour agreement (circular)**: overlap of a token's {options.NeighborK} nearest embedding neighbours (cosine) with its top-{options.NeighborK} PPMI neighbours, over a seeded sample of up to {options.QuerySample:N0} query tokens. It is measured against the very field SCA trains toward, so it says whether the objective was met, not whether the embeddings are better; the word pairs are the independent check.");
        sb.AppendLine("- **word pairs**: with WordNet synonym pairs (`wordnet-pairs`), label 1 pairs share a synset and label 0 pairs are random pairs drawn from the same count band; AUC 0.5 is chance. A pair is in the band of its rarer word; pairs with a word the variant has no vector for are skipped (counted under 'out of vocabulary').");
        sb.AppendLine("- **macro-F1** is computed from the confusion matrix: mean over classes of 2TP/(2TP+FP+FN); for fastText's classifier the harness builds that matrix from `fasttext predict`'s labels.");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- **cost**: s/step, tokens/s and peak MB come from `CoherenceTrainingReport`. Peak MB is the process' peak resident set during the run{(peakReset ? ", reset before each run (/proc/self/clear_refs)" : " (could not be reset between runs, so it only grows)")}; it includes what earlier runs in the same process left resident. fastText's training seconds are the wall time of its process. Timings were taken on a shared machine with other jobs running: they are noisy, and so is the time-matched baseline's step count.");
        sb.AppendLine();
        sb.AppendLine("## Figures").AppendLine();
        if (figures.Count == 0)
        {
            sb.AppendLine("None: the figures show the baseline and sca runs, and neither ran.").AppendLine();
        }

        foreach (var (file, caption) in figures)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"**{caption}**").AppendLine().AppendLine(CultureInfo.InvariantCulture, $"![{caption}]({file})").AppendLine();
        }

        sb.AppendLine("## Runs").AppendLine();
        sb.AppendLine("| variant | seed | accuracy | macro-F1 | steps | perplexity | coherence | kappa | agreement | pairs AUC | anisotropy | eff. rank | train s | s/step | peak MB |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Variant} | {r.Seed} | {F(r["accuracy"], "F4")} | {F(r["macroF1"], "F4")} | {F(r["steps"], "F0")} | {F(r["perplexity"], "F1")} | {F(r["coherenceMean"], "F3")} | {F(r["chanceCorrectedCoherence"], "F3")} | {F(r["neighborAgreement"], "F3")} | {F(r["pairsAuc"], "F3")} | {F(r["anisotropy"], "F3")} | {F(r["effectiveRank"], "F1")} | {F(r["trainSeconds"], "F1")} | {F(r["secondsPerStep"], "F4")} | {F(r["peakMemoryMB"], "F0")} |");
        }

        Microsoft.ML.Coherence.Internal.AtomicFile.WriteAllText(path, sb.ToString());
    }

    private static string F(double? value, string format) => value is double v ? v.ToString(format, CultureInfo.InvariantCulture) : "—";
}
