// The experiment harness of issue 4: on one labelled split and for several seeds, train the baseline
// (coherence and uniformity weights 0) and SCA embeddings with the same budget, compare them with ML.NET's
// FeaturizeText under the same downstream classifier, measure every claim, and write results.json,
// report.md and PNG plots. Exit code 2 on usage or input errors.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Coherence.Experiments;
using Microsoft.ML.Coherence;
using Spectre.Console;

ExperimentOptions? options;
List<LabeledRow> train, test;
List<string>? corpus = null;
List<Microsoft.ML.Coherence.Evaluation.WordSimilarityPair>? pairs = null;
try
{
    options = ExperimentOptions.Parse(args);
    if (options is null)
    {
        Console.WriteLine(ExperimentOptions.Usage);
        return 0;
    }

    train = LabeledTsv.Read(options.TrainPath, options.TrainPath);
    LabeledTsv.RequireTwoClasses(train, options.TrainPath);
    test = LabeledTsv.Read(options.TestPath, options.TestPath);
    if (options.CorpusPath is not null)
    {
        corpus = LabeledTsv.ReadCorpus(options.CorpusPath, options.CorpusPath);
    }

    if (options.PairsPath is not null)
    {
        pairs = WordPairs.Read(options.PairsPath, options.PairsPath);
    }
}
catch (InputException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    Console.Error.WriteLine(ExperimentOptions.Usage);
    return InputException.ExitCode;
}

var title = options.Title ?? new DirectoryInfo(Path.GetDirectoryName(Path.GetFullPath(options.TrainPath))!).Name;
Directory.CreateDirectory(options.OutputDirectory);
var runner = new ExperimentRunner(options, train, test, corpus, pairs);
var wall = Stopwatch.StartNew();
var m = options.Model;
AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"[bold]{Markup.Escape(title)}[/]: train {train.Count:N0} rows, test {test.Count:N0} rows, {train.Select(r => r.Label).Distinct().Count()} classes" +
    (corpus is null ? "" : $", corpus {corpus.Count:N0} lines") + (pairs is null ? "" : $", {pairs.Count:N0} word pairs"));
AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"d = {m.EmbeddingDimension}, layers = {m.Layers}, steps = {m.Steps}, batch = {m.BatchSize}, lr = {m.LearningRate}, coherence weight = {m.CoherenceWeight}, uniformity weight = {m.UniformityWeight}, seeds 1..{options.Seeds}");

AnsiConsole.MarkupLine("warm-up (unmeasured): 20 steps of each variant on 200 rows");
runner.WarmUp();
await AnsiConsole.Progress()
    .AutoClear(false)
    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
    .StartAsync(ctx =>
    {
        for (var seed = 1; seed <= options.Seeds; seed++)
        {
            foreach (var variant in new[] { "baseline", "sca" })
            {
                var task = ctx.AddTask($"seed {seed} {variant}", maxValue: m.Steps ?? 1); // the progress sets the resolved total
                var r = runner.RunEmbedding(variant, seed, new TaskProgress(task));
                task.Value = task.MaxValue;
                AnsiConsole.MarkupLine(CultureInfo.InvariantCulture,
                    $"  seed {seed} {variant,-8} accuracy {r["accuracy"]:F4} macro-F1 {r["macroF1"]:F4} perplexity {r["perplexity"]:F1} coherence {r["coherenceMean"]:F3} kappa {r["chanceCorrectedCoherence"]:F3} agreement {r["neighborAgreement"]:F3} ({r["trainSeconds"]:F0} s)");
            }

            if (!options.SkipFeaturizeText)
            {
                var task = ctx.AddTask($"seed {seed} featurize-text", maxValue: 1);
                task.IsIndeterminate = true;
                var r = runner.RunFeaturizeText(seed);
                task.IsIndeterminate = false;
                task.Value = 1;
                AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"  seed {seed} featurize-text accuracy {r["accuracy"]:F4} macro-F1 {r["macroF1"]:F4} ({r["featurizerSeconds"] + r["classifierSeconds"]:F0} s)");
            }
        }

        return Task.CompletedTask;
    });

// Figures.
var outDir = options.OutputDirectory;
var figures = new List<(string File, string Caption)>
{
    (Plots.TrainingCurve(outDir, "curve-task-loss.png", "Next-token (task) loss, sampled softmax", "nats", runner.Histories, p => p.TaskLoss), "Task loss per step (all seeds)"),
    (Plots.TrainingCurve(outDir, "curve-alignment-loss.png", "Alignment loss KL(P||Q) (0 in the baseline: not computed)", "KL", runner.Histories, p => p.AlignmentLoss), "Alignment loss per step"),
    (Plots.TrainingCurve(outDir, "curve-uniformity-loss.png", "Uniformity loss (0 in the baseline: not computed)", "log E exp(-2|u-v|^2)", runner.Histories, p => p.UniformityLoss), "Uniformity loss per step"),
    (Plots.TrainingCurve(outDir, "curve-perplexity.png", "Held-out perplexity (full softmax)", "perplexity", runner.Histories, p => p.HeldOutPerplexity, logY: true), "Held-out perplexity at evaluation steps"),
    (Plots.TrainingCurve(outDir, "curve-coherence.png", "Mean coherence score over the vocabulary", "coherence", runner.Histories, p => p.MeanCoherence), "Mean coherence score at evaluation steps"),
    (Plots.BucketHistograms(outDir, "hist-coherence.png", "coherence", runner.Snapshots, s => s.Coherence, 0, 1), "Coherence score by frequency bucket (seed 1)"),
    (Plots.BucketHistograms(outDir, "hist-chance-corrected.png", "chance-corrected", runner.Snapshots, s => s.ChanceCorrected, -0.5, 1), "Chance-corrected coherence by frequency bucket (seed 1; clamped to [-0.5, 1])"),
    (Plots.Projection(outDir, "pca.png", runner.Snapshots, 4000, 1), "2-D PCA of the embeddings coloured by frequency bucket (seed 1, up to 4,000 tokens)"),
};
wall.Stop();

var settingsLines = new List<string>
{
    $"train `{options.TrainPath}` ({train.Count:N0} rows), test `{options.TestPath}` ({test.Count:N0} rows)" + (corpus is null ? "" : $", corpus `{options.CorpusPath}` ({corpus.Count:N0} lines)") + (pairs is null ? "" : $", pairs `{options.PairsPath}` ({pairs.Count:N0})"),
    $"embeddings trained on the train texts{(corpus is null ? "" : " plus the corpus")} (the test split is never seen by any training step)",
    $"seeds 1..{options.Seeds}; options: d = {m.EmbeddingDimension}, layers = {m.Layers}, steps = {m.Steps}, batch = {m.BatchSize}, context = {m.ContextLength}, lr = {m.LearningRate}, min count = {m.MinCount}, max vocabulary = {m.MaxVocabularySize:N0}, window = {m.Window}, K = {m.NeighborCount}, temperature = {m.Temperature}, negatives = {m.CoherenceNegatives}, anchors = {m.AnchorsPerStep}, sampled-softmax negatives = {m.SampledSoftmaxNegatives}, evaluation every {m.EvaluationInterval} steps, held-out fraction = {m.HeldOutFraction}",
    $"SCA: coherence weight = {m.CoherenceWeight} (ramped over the first {m.CoherenceWarmupFraction:P0} of steps), uniformity weight = {m.UniformityWeight}; baseline: both 0",
    $"neighbour agreement: k = {options.NeighborK}, up to {options.QuerySample:N0} query tokens sampled with the run's seed",
    $"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}, CPU (TorchSharp-cpu)",
};
var settings = new JsonObject
{
    ["title"] = title,
    ["train"] = options.TrainPath, ["test"] = options.TestPath, ["corpus"] = options.CorpusPath, ["pairs"] = options.PairsPath,
    ["trainRows"] = train.Count, ["testRows"] = test.Count, ["corpusLines"] = corpus?.Count, ["seeds"] = options.Seeds,
    ["dimension"] = m.EmbeddingDimension, ["layers"] = m.Layers, ["steps"] = m.Steps, ["batch"] = m.BatchSize, ["contextLength"] = m.ContextLength,
    ["learningRate"] = m.LearningRate, ["coherenceWeight"] = m.CoherenceWeight, ["uniformityWeight"] = m.UniformityWeight, ["temperature"] = m.Temperature,
    ["minCount"] = m.MinCount, ["maxVocabulary"] = m.MaxVocabularySize, ["window"] = m.Window, ["neighborCount"] = m.NeighborCount,
    ["neighborAgreementK"] = options.NeighborK, ["neighborAgreementQueries"] = options.QuerySample,
    ["downstream"] = ExperimentRunner.Downstream, ["peakMemoryResetPerRun"] = runner.PeakMemoryReset,
    ["processorCount"] = Environment.ProcessorCount, ["wallSeconds"] = wall.Elapsed.TotalSeconds,
};
ResultsWriter.WriteJson(Path.Combine(outDir, "results.json"), options, runner.Results, settings);
ResultsWriter.WriteReport(Path.Combine(outDir, "report.md"), title, options, runner.Results, settingsLines, figures, wall.Elapsed, runner.PeakMemoryReset);

// Console table: mean ± sd per variant.
var summary = ResultsWriter.Summarise(runner.Results);
var table = new Table().Title($"{Markup.Escape(title)}: mean ± sd over {options.Seeds} seeds").AddColumn("metric");
foreach (var v in summary.Keys)
{
    table.AddColumn(new TableColumn(v).RightAligned());
}

foreach (var (metric, label, format) in ResultsWriter.TableRows)
{
    if (summary.Values.All(s => s[metric].N == 0))
    {
        continue;
    }

    table.AddRow([label, .. summary.Values.Select(s => s[metric].Format(format))]);
}

AnsiConsole.Write(table);
AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"wrote {Markup.Escape(Path.Combine(outDir, "results.json"))}, report.md and {figures.Count} PNGs in {wall.Elapsed.TotalMinutes:F1} min");
return 0;

/// <summary>Forwards the estimator's progress to a Spectre progress task (synchronously, on the training thread).</summary>
internal sealed class TaskProgress(ProgressTask task) : IProgress<CoherenceTrainingProgress>
{
    public void Report(CoherenceTrainingProgress value)
    {
        task.MaxValue = value.TotalSteps;
        task.Value = value.Step;
        task.Description = $"{task.Description.Split(" | ")[0]} | loss {value.Loss:F3}" + (value.HeldOutPerplexity is double p ? $" ppl {p:F0}" : "");
    }
}
