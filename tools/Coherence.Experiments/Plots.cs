using Microsoft.ML.Coherence;
using Microsoft.ML.Coherence.Evaluation;
using ScottPlot;

namespace Coherence.Experiments;

/// <summary>The harness' PNG figures (ScottPlot, rendered headless).</summary>
internal static class Plots
{
    private static readonly Color BaselineColor = Color.FromHex("#1f77b4");
    private static readonly Color ScaColor = Color.FromHex("#ff7f0e");
    private static readonly (FrequencyBucket Bucket, string Name, Color Color)[] Buckets =
    [
        (FrequencyBucket.Rare, "rare (count < 10)", Color.FromHex("#d62728")),
        (FrequencyBucket.Medium, "medium (10-99)", Color.FromHex("#2ca02c")),
        (FrequencyBucket.Frequent, "frequent (>= 100)", Color.FromHex("#1f77b4")),
    ];

    private static Color ColorOf(string variant) => variant == "sca" ? ScaColor : BaselineColor;

    /// <summary>Training curves: one line per run (all seeds), baseline and SCA on one chart.</summary>
    public static string TrainingCurve(string directory, string file, string title, string yLabel,
        IReadOnlyDictionary<string, List<IReadOnlyList<CoherenceTrainingProgress>>> histories, Func<CoherenceTrainingProgress, double?> select, bool logY = false)
    {
        var plot = new Plot();
        foreach (var (variant, runs) in histories)
        {
            for (var s = 0; s < runs.Count; s++)
            {
                var points = runs[s].Select(p => (p.Step, Value: select(p))).Where(p => p.Value is double v && double.IsFinite(v)).ToArray();
                if (points.Length == 0)
                {
                    continue;
                }

                var xs = points.Select(p => (double)p.Step).ToArray();
                var ys = points.Select(p => logY ? Math.Log10(p.Value!.Value) : p.Value!.Value).ToArray();
                var line = plot.Add.Scatter(xs, ys);
                line.Color = ColorOf(variant).WithAlpha(0.8);
                line.LineWidth = 1.5f;
                line.MarkerSize = points.Length <= 30 ? 4 : 0;
                if (s == 0)
                {
                    line.LegendText = variant == "sca" ? "SCA" : "baseline";
                }
            }
        }

        plot.Title(title);
        plot.XLabel("step");
        plot.YLabel(logY ? $"log10 {yLabel}" : yLabel);
        plot.ShowLegend(Alignment.UpperRight);
        var path = Path.Combine(directory, file);
        plot.SavePng(path, 720, 420);
        return file;
    }

    /// <summary>Histograms of a per-token score by frequency bucket, baseline vs SCA (first seed), one panel per bucket.</summary>
    public static string BucketHistograms(string directory, string file, string title, IReadOnlyDictionary<string, EmbeddingSnapshot> snapshots,
        Func<EmbeddingSnapshot, float[]> select, double min, double max, int bins = 40)
    {
        var edges = DistributionSummary.UniformBinEdges(min, max, bins);
        var centres = Enumerable.Range(0, bins).Select(b => (edges[b] + edges[b + 1]) / 2).ToArray();
        var multiplot = new Multiplot();
        multiplot.AddPlots(Buckets.Length);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        for (var p = 0; p < Buckets.Length; p++)
        {
            var (bucket, name, _) = Buckets[p];
            var plot = multiplot.GetPlot(p);
            foreach (var (variant, snapshot) in snapshots)
            {
                var values = select(snapshot);
                var kept = Enumerable.Range(1, values.Length - 1)
                    .Where(i => snapshot.Buckets[i] == bucket && !float.IsNaN(values[i]))
                    .Select(i => Math.Clamp(values[i], (float)min, (float)max))
                    .ToArray();
                if (kept.Length == 0)
                {
                    continue;
                }

                var counts = DistributionSummary.Histogram(kept, edges);
                var share = counts.Select(c => (double)c / kept.Length).ToArray();
                var line = plot.Add.Scatter(centres, share);
                line.ConnectStyle = ConnectStyle.StepVertical;
                line.Color = ColorOf(variant);
                line.LineWidth = 2;
                line.MarkerSize = 0;
                line.LegendText = $"{(variant == "sca" ? "SCA" : "baseline")} (n={kept.Length}, mean {kept.Average():F3})";
            }

            plot.Title($"{title}: {name}", size: 12);
            plot.XLabel("score");
            plot.YLabel("share of tokens");
            plot.ShowLegend(Alignment.UpperLeft);
        }

        multiplot.SavePng(Path.Combine(directory, file), 1200, 380);
        return file;
    }

    /// <summary>2-D PCA of the embeddings (first seed), coloured by frequency bucket; baseline and SCA side by side.</summary>
    public static string Projection(string directory, string file, IReadOnlyDictionary<string, EmbeddingSnapshot> snapshots, int maxPoints, int seed)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(snapshots.Count);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        var index = 0;
        foreach (var (variant, snapshot) in snapshots)
        {
            var plot = multiplot.GetPlot(index++);
            var rows = Enumerable.Range(1, snapshot.Matrix.Rows - 1).ToArray();
            if (rows.Length > maxPoints)
            {
                new Random(seed).Shuffle(rows);
                rows = rows[..maxPoints];
                Array.Sort(rows);
            }

            var (x, y, share1, share2) = Pca.Project(snapshot.Matrix, rows);
            foreach (var (bucket, name, color) in Buckets)
            {
                var pick = Enumerable.Range(0, rows.Length).Where(i => snapshot.Buckets[rows[i]] == bucket).ToArray();
                if (pick.Length == 0)
                {
                    continue;
                }

                var points = plot.Add.ScatterPoints(pick.Select(i => x[i]).ToArray(), pick.Select(i => y[i]).ToArray());
                points.Color = color.WithAlpha(0.45);
                points.MarkerSize = 3;
                points.LegendText = $"{name} ({pick.Length})";
            }

            plot.Title($"{(variant == "sca" ? "SCA" : "baseline")}: PCA of {rows.Length:N0} token embeddings", size: 12);
            plot.XLabel($"PC1 ({share1:P1} of variance)");
            plot.YLabel($"PC2 ({share2:P1})");
            plot.ShowLegend(Alignment.UpperRight);
        }

        multiplot.SavePng(Path.Combine(directory, file), 1100, 500);
        return file;
    }
}
