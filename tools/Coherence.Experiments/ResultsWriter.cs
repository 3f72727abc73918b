using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Coherence.Experiments;

/// <summary>Writes results.json and report.md.</summary>
internal static class ResultsWriter
{
    public static readonly string[] Variants = ["baseline", "sca", "featurize-text"];

    /// <summary>Rows of the summary tables: metric, label, format.</summary>
    public static readonly (string Metric, string Label, string Format)[] TableRows =
    [
        ("accuracy", "accuracy", "F4"),
        ("macroF1", "macro-F1", "F4"),
        ("perplexity", "held-out perplexity", "F1"),
        ("coherenceMean", "coherence (mean)", "F3"),
        ("chanceCorrectedCoherence", "chance-corrected coherence", "F3"),
        ("neighborAgreement", "neighbour agreement@10 (all)", "F3"),
        ("rareNeighborAgreement", "neighbour agreement@10 (rare)", "F3"),
        ("anisotropy", "anisotropy", "F3"),
        ("effectiveRank", "effective rank", "F1"),
        ("pairsSpearman", "pairs Spearman", "F3"),
        ("pairsAuc", "pairs AUC", "F3"),
        ("secondsPerStep", "s/step", "F4"),
        ("tokensPerSecond", "tokens/s", "F0"),
        ("peakMemoryMB", "peak MB", "F0"),
    ];

    public static Dictionary<string, Dictionary<string, MetricSummary>> Summarise(IReadOnlyList<RunResult> results) =>
        Variants.Where(v => results.Any(r => r.Variant == v)).ToDictionary(
            v => v,
            v => RunResult.MetricNames.ToDictionary(m => m, m => MetricSummary.Of(results.Where(r => r.Variant == v).Select(r => r[m]))));

    public static void WriteJson(string path, ExperimentOptions options, IReadOnlyList<RunResult> results, JsonObject settings)
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

    public static string Table(IReadOnlyList<RunResult> results)
    {
        var summary = Summarise(results);
        var sb = new StringBuilder();
        sb.Append("| metric |");
        foreach (var v in summary.Keys)
        {
            sb.Append(CultureInfo.InvariantCulture, $" {v} |");
        }

        sb.AppendLine().Append("|---|");
        foreach (var _ in summary.Keys)
        {
            sb.Append("---:|");
        }

        sb.AppendLine();
        foreach (var (metric, label, format) in TableRows)
        {
            if (summary.Values.All(s => s[metric].N == 0))
            {
                continue;
            }

            sb.Append(CultureInfo.InvariantCulture, $"| {label} |");
            foreach (var s in summary.Values)
            {
                sb.Append(CultureInfo.InvariantCulture, $" {s[metric].Format(format)} |");
            }

            sb.AppendLine();
        }

        return sb.ToString();
    }

    public static string BucketTable(IReadOnlyList<RunResult> results)
    {
        var summary = Summarise(results);
        var sb = new StringBuilder();
        sb.AppendLine("| metric | bucket | baseline | SCA |").AppendLine("|---|---|---:|---:|");
        foreach (var (prefix, label) in new[] { ("coherence", "coherence"), ("chanceCorrectedCoherence", "chance-corrected coherence"), ("NeighborAgreement", "neighbour agreement@10") })
        {
            foreach (var bucket in new[] { "Rare", "Medium", "Frequent" })
            {
                var metric = prefix == "NeighborAgreement" ? bucket.ToLowerInvariant() + prefix : prefix + bucket;
                sb.Append(CultureInfo.InvariantCulture, $"| {label} | {bucket.ToLowerInvariant()} |");
                foreach (var v in new[] { "baseline", "sca" })
                {
                    sb.Append(CultureInfo.InvariantCulture, $" {(summary.TryGetValue(v, out var s) ? s[metric].Format("F3") : "—")} |");
                }

                sb.AppendLine();
            }
        }

        return sb.ToString();
    }

    public static void WriteReport(string path, string title, ExperimentOptions options, IReadOnlyList<RunResult> results,
        IReadOnlyList<string> settingsLines, IReadOnlyList<(string File, string Caption)> figures, TimeSpan wall, bool peakReset)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"# Coherence experiment: {title}").AppendLine();
        sb.AppendLine("Generated by `tools/Coherence.Experiments`. Mean ± sample standard deviation over seeds; every variant uses the same split and, for the two embedding variants, the same model, data and step budget. The baseline is the same model with coherence weight 0 and uniformity weight 0.").AppendLine();
        sb.AppendLine("## Settings").AppendLine();
        foreach (var line in settingsLines)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"- {line}");
        }

        sb.AppendLine(CultureInfo.InvariantCulture, $"- downstream classifier (all variants): {ExperimentRunner.Downstream}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- wall time of the whole harness run: {wall.TotalMinutes:F1} min").AppendLine();
        sb.AppendLine("## Results").AppendLine();
        sb.AppendLine(Table(results));
        sb.AppendLine("By frequency bucket (rare: count < 10, medium: 10-99, frequent: >= 100 in the embedding corpus):").AppendLine();
        sb.AppendLine(BucketTable(results));
        sb.AppendLine("## How to read these numbers").AppendLine();
        sb.AppendLine("- **perplexity** is the library's held-out perplexity (full softmax) on the documents the estimator holds out of its own training text (`HeldOutFraction`), not on the test split. FeaturizeText has none.");
        sb.AppendLine("- **coherence** is the raw Rayleigh-quotient score c_i; it rewards collapse (a table whose rows lie in few directions scores near 1), so read it next to **chance-corrected coherence** (kappa_i = (c_i - b_i)/(1 - b_i), b_i the score against a random token's context), **anisotropy** (mean pairwise cosine) and **effective rank**.");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- **neighbour agreement**: overlap of a token's {options.NeighborK} nearest embedding neighbours (cosine) with its top-{options.NeighborK} PPMI neighbours, over a seeded sample of up to {options.QuerySample:N0} query tokens. SCA trains towards the PPMI neighbours, so this measures whether the objective was met more than whether the embeddings are better.");
        sb.AppendLine("- **macro-F1** is computed from ML.NET's confusion matrix: mean over classes of 2TP/(2TP+FP+FN).");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- **cost**: s/step, tokens/s and peak MB come from `CoherenceTrainingReport`. Peak MB is the process' peak resident set during the run{(peakReset ? ", reset before each run (/proc/self/clear_refs)" : " (could not be reset between runs, so it only grows)")}; it includes what earlier runs in the same process left resident. Timings were taken on a shared 2-core machine with other jobs running: they are noisy.");
        sb.AppendLine();
        sb.AppendLine("## Figures").AppendLine();
        foreach (var (file, caption) in figures)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"**{caption}**").AppendLine().AppendLine(CultureInfo.InvariantCulture, $"![{caption}]({file})").AppendLine();
        }

        sb.AppendLine("## Runs").AppendLine();
        sb.AppendLine("| variant | seed | accuracy | macro-F1 | perplexity | coherence | kappa | agreement | rare agr. | anisotropy | eff. rank | train s | s/step | peak MB |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Variant} | {r.Seed} | {F(r["accuracy"], "F4")} | {F(r["macroF1"], "F4")} | {F(r["perplexity"], "F1")} | {F(r["coherenceMean"], "F3")} | {F(r["chanceCorrectedCoherence"], "F3")} | {F(r["neighborAgreement"], "F3")} | {F(r["rareNeighborAgreement"], "F3")} | {F(r["anisotropy"], "F3")} | {F(r["effectiveRank"], "F1")} | {F(r["trainSeconds"], "F0")} | {F(r["secondsPerStep"], "F4")} | {F(r["peakMemoryMB"], "F0")} |");
        }

        Microsoft.ML.Coherence.Internal.AtomicFile.WriteAllText(path, sb.ToString());
    }

    private static string F(double? value, string format) => value is double v ? v.ToString(format, CultureInfo.InvariantCulture) : "—";
}
