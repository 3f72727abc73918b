// The experiment harness (issues 4 and 9): on one labelled split and for several seeds, train the stage's
// variants (SCA, its weights-0 baseline, a time-matched baseline, the two ablations) and compare them with
// ML.NET's FeaturizeText, their concatenation and fastText's peers (its vectors pooled by ApplyWordEmbedding,
// its supervised classifier), optionally with only a fraction of the labels; measure every claim, and write
// results.json, report.md and PNG plots. `wordnet-pairs` builds the WordNet synonym pairs for --pairs.
// Exit code 2 on usage or input errors.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Coherence.Experiments;
using Coherence.Tools;
using Microsoft.ML.Coherence;
using Spectre.Console;

var parsed = ToolCommandLine.Parse(ExperimentOptions.Command, args);
if (ToolCommandLine.IsHelp(parsed))
{
    return parsed.Invoke();
}

if (parsed.CommandResult.Command == WordNetPairsCommand.Command)
{
    try
    {
        WordNetPairsCommand.From(parsed).Run(Console.Out);
        return 0;
    }
    catch (InputException e)
    {
        return ToolCommandLine.ReportUsageError(e.Message, $"Coherence.Experiments {WordNetPairsCommand.Name}");
    }
}

ExperimentOptions options;
List<LabeledRow> train, test;
List<string>? corpus = null;
List<Microsoft.ML.Coherence.Evaluation.WordSimilarityPair>? pairs = null;
try
{
    options = ExperimentOptions.From(parsed);
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
    return ToolCommandLine.ReportUsageError(e.Message, "Coherence.Experiments");
}

// fastText's variants need its command-line tool; without it they are skipped and the report says so.
var fastTextPath = FastTextExecutable.Find();
var fastText = fastTextPath is null ? null : new FastTextTool(fastTextPath, options.FastTextThreads);
var skipped = fastText is null ? options.Variants.Where(v => Variants.FastText.Contains(v)).ToArray() : [];
var toRun = options.Variants.Where(v => !skipped.Contains(v)).ToArray();

var title = options.Title ?? new DirectoryInfo(Path.GetDirectoryName(Path.GetFullPath(options.TrainPath))!).Name;
Directory.CreateDirectory(options.OutputDirectory);
using var runner = new ExperimentRunner(options, train, test, corpus, pairs, fastText);
var wall = Stopwatch.StartNew();
var m = options.Model;
var budget = m.Steps is int fixedSteps ? $"steps = {fixedSteps}" : $"steps from {m.Epochs} epochs";
AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"[bold]{Markup.Escape(title)}[/]: train {train.Count:N0} rows, test {test.Count:N0} rows, {train.Select(r => r.Label).Distinct().Count()} classes" +
    (corpus is null ? "" : $", corpus {corpus.Count:N0} lines") + (pairs is null ? "" : $", {pairs.Count:N0} word pairs"));
AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"d = {m.EmbeddingDimension}, layers = {m.Layers}, {budget}, batch = {m.BatchSize}, lr = {m.LearningRate}, coherence weight = {m.CoherenceWeight}, uniformity weight = {m.UniformityWeight}, seeds {options.FirstSeed}..{options.LastSeed}, label fraction {options.LabelFraction}");
AnsiConsole.MarkupLine(Markup.Escape($"variants: {string.Join(", ", toRun)}"));
if (skipped.Length > 0)
{
    AnsiConsole.MarkupLine(Markup.Escape($"skipped (fasttext not on PATH; apt-get install fasttext, or scripts/get-data.sh as root): {string.Join(", ", skipped)}"));
}

if (toRun.Any(v => Variants.Embedding.Contains(v)))
{
    AnsiConsole.MarkupLine("warm-up (unmeasured): 20 steps of each variant on 200 rows");
    runner.WarmUp();
}

var labelledPerSeed = new List<int>();
await AnsiConsole.Progress()
    .AutoClear(false)
    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
    .StartAsync(ctx =>
    {
        for (var seed = options.FirstSeed; seed <= options.LastSeed; seed++)
        {
            runner.BeginSeed(seed);
            labelledPerSeed.Add(runner.LabelledRows);
            foreach (var variant in toRun)
            {
                var isStage = Variants.Embedding.Contains(variant);
                var task = ctx.AddTask($"seed {seed} {variant}", maxValue: isStage ? runner.StepsFor(variant) : 1);
                task.IsIndeterminate = !isStage;
                var r = runner.Run(variant, isStage ? new TaskProgress(task) : null);
                task.IsIndeterminate = false;
                task.Value = task.MaxValue;
                var line = $"  seed {seed} {variant,-31} accuracy {r["accuracy"]:F4} macro-F1 {r["macroF1"]:F4}";
                if (isStage)
                {
                    line += $" steps {r["steps"]:F0} perplexity {r["perplexity"]:F1} coherence {r["coherenceMean"]:F3} kappa {r["chanceCorrectedCoherence"]:F3} agreement {r["neighborAgreement"]:F3}";
                }

                if (r["pairsAuc"] is double auc)
                {
                    line += $" pairs AUC {auc:F3}";
                }

                if (r["trainSeconds"] is double seconds)
                {
                    line += $" ({seconds:F0} s training)";
                }

                AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, Markup.Escape(line));
            }
        }

        return Task.CompletedTask;
    });

// Figures (the stage's baseline and sca runs only).
var outDir = options.OutputDirectory;
var figures = new List<(string File, string Caption)>();
if (runner.Snapshots.Count > 0)
{
    figures.AddRange(
    [
        (Plots.TrainingCurve(outDir, "curve-task-loss.png", "Task loss (next token), sampled softmax", "nats", runner.Histories, p => p.TaskLoss), "Task loss per step (all seeds)"),
        (Plots.TrainingCurve(outDir, "curve-alignment-loss.png", "Alignment loss KL(P||Q) (0 in the baseline: not computed)", "KL", runner.Histories, p => p.AlignmentLoss), "Alignment loss per step"),
        (Plots.TrainingCurve(outDir, "curve-uniformity-loss.png", "Uniformity loss (0 in the baseline: not computed)", "log E exp(-2|u-v|^2)", runner.Histories, p => p.UniformityLoss), "Uniformity loss per step"),
        (Plots.TrainingCurve(outDir, "curve-perplexity.png", "Held-out perplexity (full softmax)", "perplexity", runner.Histories, p => p.HeldOutPerplexity, logY: true), "Held-out perplexity at evaluation steps"),
        (Plots.TrainingCurve(outDir, "curve-coherence.png", "Mean coherence score over the vocabulary", "coherence", runner.Histories, p => p.MeanCoherence), "Mean coherence score at evaluation steps"),
        (Plots.BucketHistograms(outDir, "hist-coherence.png", "coherence", runner.Snapshots, s => s.Coherence, 0, 1), "Coherence score by frequency bucket (seed 1)"),
        (Plots.BucketHistograms(outDir, "hist-chance-corrected.png", "chance-corrected", runner.Snapshots, s => s.ChanceCorrected, -0.5, 1), "Chance-corrected coherence by frequency bucket (seed 1; clamped to [-0.5, 1])"),
        (Plots.Projection(outDir, "pca.png", runner.Snapshots, 4000, 1), "2-D PCA of the embeddings coloured by frequency bucket (seed 1, up to 4,000 tokens)"),
    ]);
}

wall.Stop();

var labelled = labelledPerSeed.Count > 0 ? labelledPerSeed[0] : train.Count;
var settingsLines = new List<string>
{
    $"train `{options.TrainPath}` ({train.Count:N0} rows), test `{options.TestPath}` ({test.Count:N0} rows)" + (corpus is null ? "" : $", corpus `{options.CorpusPath}` ({corpus.Count:N0} lines)") + (pairs is null ? "" : $", pairs `{options.PairsPath}` ({pairs.Count:N0})"),
    options.LabelFraction < 1
        ? $"**label fraction {options.LabelFraction:0.###}**: {labelled:N0} of {train.Count:N0} train rows keep their label (stratified: round(fraction × rows) of each label, at least 1, drawn per seed with the seed); the classifiers (and fastText's supervised one) train on those rows only"
        : $"label fraction 1: the classifiers train on all {train.Count:N0} train rows",
    $"unsupervised steps see every train text{(corpus is null ? "" : " plus the corpus")}: the stage's embeddings, fastText's skipgram vectors, and FeaturizeText's dictionaries (fitted on all train texts; only the classifier is limited to labelled rows). The test split is never seen by any training step",
    $"seeds {options.FirstSeed}..{options.LastSeed}; stage options: d = {m.EmbeddingDimension}, layers = {m.Layers}, {budget} (the tables give the steps and epochs each run trained), punctuation {(m.SplitPunctuation ? "split from words" : "kept attached")}, batch = {m.BatchSize}, context = {m.ContextLength}, lr = {m.LearningRate}, min count = {m.MinCount}, max vocabulary = {m.MaxVocabularySize:N0}, window = {m.Window}, K = {m.NeighborCount}, temperature = {m.Temperature}, negatives = {m.CoherenceNegatives}, anchors = {m.AnchorsPerStep}, sampled-softmax negatives = {m.SampledSoftmaxNegatives}, evaluation every {m.EvaluationInterval} steps, held-out fraction = {m.HeldOutFraction}; sca-label: label weight = {m.LabelWeight}, label batch = {m.LabelBatchSize?.ToString(CultureInfo.InvariantCulture) ?? $"sized for {m.LabelEpochs.ToString(CultureInfo.InvariantCulture)} passes over the labelled rows"}, label hold-out fraction = {m.LabelHoldOutFraction}",
    $"sca: coherence weight = {m.CoherenceWeight} (ramped over the first {m.CoherenceWarmupFraction * 100:0.#}% of steps), uniformity weight = {m.UniformityWeight}; baseline: both 0",
    fastText is null
        ? "fastText: not found on PATH"
        : $"fastText: `{fastText.Executable}` (Debian fasttext 0.9.2), -thread {fastText.Threads} -seed <seed>{(fastText.Threads > 1 ? " (several threads train lock-free, so a seed does not reproduce fastText's numbers exactly; --fasttext-threads 1 does)" : "")}; skipgram -dim {options.FastTextDimension}, its other defaults (5 epochs, window 5, min count 5, character 3-6-grams in training); input: the stage's tokens of the same texts, one document per line (the stage itself holds out {m.HeldOutFraction * 100:0.#}% of them for perplexity; fastText trains on all)",
    $"neighbour agreement: k = {options.NeighborK}, up to {options.QuerySample:N0} query tokens sampled with the run's seed",
    $"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}, CPU (TorchSharp-cpu)",
};
var variantLines = toRun.Select(v => $"`{v}`: {Variants.Descriptions[v]}").ToList();
var added = toRun.Where(v => !options.RequestedVariants.Contains(v)).ToArray();
if (added.Length > 0)
{
    variantLines.Add($"also run because a chosen variant reuses them: {string.Join(", ", added)}");
}

foreach (var v in skipped)
{
    variantLines.Add($"`{v}`: **skipped**, fasttext not found on PATH (apt-get install fasttext, or run scripts/get-data.sh as root)");
}

var settings = new JsonObject
{
    ["title"] = title,
    ["train"] = options.TrainPath, ["test"] = options.TestPath, ["corpus"] = options.CorpusPath, ["pairs"] = options.PairsPath,
    ["trainRows"] = train.Count, ["testRows"] = test.Count, ["corpusLines"] = corpus?.Count, ["seeds"] = options.Seeds, ["firstSeed"] = options.FirstSeed,
    ["labelFraction"] = options.LabelFraction, ["labelledTrainRows"] = labelled, ["labelSelection"] = "stratified by label, round(fraction x rows) per label (at least 1), seeded per seed",
    ["variants"] = new JsonArray(toRun.Select(v => (JsonNode)JsonValue.Create(v)!).ToArray()),
    ["skippedVariants"] = new JsonArray(skipped.Select(v => (JsonNode)JsonValue.Create(v)!).ToArray()),
    ["skippedReason"] = skipped.Length > 0 ? "fasttext not found on PATH" : null,
    ["fastText"] = fastText?.Executable, ["fastTextThreads"] = options.FastTextThreads, ["fastTextDimension"] = options.FastTextDimension,
    ["dimension"] = m.EmbeddingDimension, ["layers"] = m.Layers, ["steps"] = m.Steps, ["epochs"] = m.Steps is null ? m.Epochs : null, ["splitPunctuation"] = m.SplitPunctuation, ["batch"] = m.BatchSize, ["contextLength"] = m.ContextLength,
    ["learningRate"] = m.LearningRate, ["coherenceWeight"] = m.CoherenceWeight, ["uniformityWeight"] = m.UniformityWeight, ["temperature"] = m.Temperature,
    ["minCount"] = m.MinCount, ["maxVocabulary"] = m.MaxVocabularySize, ["window"] = m.Window, ["neighborCount"] = m.NeighborCount,
    ["neighborAgreementK"] = options.NeighborK, ["neighborAgreementQueries"] = options.QuerySample,
    ["downstream"] = ExperimentRunner.Downstream, ["peakMemoryResetPerRun"] = runner.PeakMemoryReset,
    ["notes"] = new JsonArray(runner.Notes.Select(n => (JsonNode)JsonValue.Create(n)!).ToArray()),
    ["processorCount"] = Environment.ProcessorCount, ["wallSeconds"] = wall.Elapsed.TotalSeconds,
};
ResultsWriter.WriteJson(Path.Combine(outDir, "results.json"), runner.Results, settings);
ResultsWriter.WriteReport(Path.Combine(outDir, "report.md"), title, options, runner.Results, settingsLines, variantLines, runner.Notes, figures, wall.Elapsed, runner.PeakMemoryReset);

// Console table: mean ± sd per variant.
var table = new Table().Title($"{Markup.Escape(title)}: mean ± sd over {options.Seeds} seeds, label fraction {options.LabelFraction}").AddColumn(new TableColumn("variant").NoWrap());
foreach (var c in ResultsWriter.ConsoleColumns)
{
    table.AddColumn(new TableColumn(c.Label).RightAligned());
}

foreach (var (variant, cells) in ResultsWriter.Rows(runner.Results, ResultsWriter.ConsoleColumns))
{
    table.AddRow([variant, .. cells]);
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
