using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Coherence.Tools;
using Microsoft.ML;
using Microsoft.ML.Coherence;

// One line of validation accuracies for one set of options, so defaults are chosen without touching the test split.
//
//   dotnet run -c Release --project tools/Coherence.DefaultsSweep -- DATASET_DIR MAX_ROWS [Option=value ...]
//
// DATASET_DIR holds train.tsv (label<TAB>text); the first MAX_ROWS rows are read, every 5th is the validation
// split and the rest train. The stage (seed 1, the options given, library defaults otherwise) trains on every
// training text; a seeded 10% of the training rows keep their labels in the label-scarce regime. Each feature set
// (FeaturizeText, the stage, both concatenated) feeds MapValueToKey → NormalizeMinMax → SdcaMaximumEntropy.
// With --label-aware the stage's label-aware mode trains twice, once per regime: with every training row's label, and
// with the labels of the 10% labelled rows only (every other text unlabelled), as the harness's sca-label does.
var datasetArgument = new Argument<string>("DATASET_DIR") { Description = "Folder with train.tsv (label<TAB>text); its test split is never read." };
var maxRowsArgument = ToolCommandLine.CheckedArgument("MAX_ROWS", "Rows of train.tsv to read; every 5th is the validation split.",
    ToolCommandLine.IntAtLeast(1), "an integer >= 1");
var assignmentsArgument = new Argument<string[]>("Option=value")
{
    Description = "CoherenceEmbeddingOptions settings, e.g. CoherenceWeight=0.5 Layers=2 (library defaults otherwise).",
    Arity = ArgumentArity.ZeroOrMore,
};
assignmentsArgument.Validators.Add(result =>
{
    foreach (var token in result.Tokens)
    {
        if (OptionAssignment.Check(token.Value) is { } error)
        {
            result.AddError($"argument Option=value: {error}");
        }
    }
});
var labelAwareOption = new Option<bool>("--label-aware")
{
    Description = "Train the label-aware mode (LabelColumnName) once per regime: all training labels, then the 10% labelled rows' only.",
};
var teacherOption = new Option<string?>("--teacher")
{
    Description = "Train with all-MiniLM-L6-v2 as the Teacher, its vectors kept in this cache file; adds the teacher's own row vectors as cells (tea, ft+tea).",
};
var teacherCellsOption = new Option<bool>("--teacher-cells")
{
    Description = "With --teacher, also score the teacher's own row vectors (tea, ft+tea): the same for every stage option, so once is enough.",
};
var rowNormOption = new Option<float?>("--row-norm") { Description = "Internal knob: mean row norm of the distilled table." };
var rowPassesOption = new Option<float?>("--row-passes") { Description = "Internal knob: passes of the row distillation term over its rows." };
var command = new RootCommand("One line of validation accuracies (FeaturizeText, the stage, both) for one set of stage options.")
{
    datasetArgument,
    maxRowsArgument,
    assignmentsArgument,
    labelAwareOption,
    teacherOption,
    teacherCellsOption,
    rowNormOption,
    rowPassesOption,
};
return ToolCommandLine.Run(command, args, parsed =>
{
    if (parsed.GetValue(rowNormOption) is float norm)
        Microsoft.ML.Coherence.Distillation.VocabularyDistillation.RowNorm = norm;
    if (parsed.GetValue(rowPassesOption) is float passes)
        Microsoft.ML.Coherence.Distillation.TeacherRowHead.Passes = passes;
    return parsed.GetValue(labelAwareOption)
        ? SweepLabelAware(parsed.GetValue(datasetArgument)!, parsed.GetValue(maxRowsArgument), parsed.GetValue(assignmentsArgument) ?? [])
        : Sweep(parsed.GetValue(datasetArgument)!, parsed.GetValue(maxRowsArgument), parsed.GetValue(assignmentsArgument) ?? [], parsed.GetValue(teacherOption),
            parsed.GetValue(teacherCellsOption));
});

static int Sweep(string dir, int limit, string[] assignments, string? teacherCache, bool teacherCells)
{
    var (fit, valid) = SweepRow.Split(dir, limit);
    var options = SweepRow.Options(assignments);
    using var teacher = teacherCache is null ? null : new CachedTeacher(teacherCache);
    var columnSets = new List<(string, string[])> { ("ft", ["TextFeatures"]), ("emb", ["Embedding"]), ("ft+emb", ["TextFeatures", "Embedding"]) };
    if (teacher is not null)
    {
        options.Teacher = teacher;
        if (teacherCells)
        {
            SweepRow.AddTeacherVectors(teacher, fit.Concat(valid).ToList());
            columnSets.Add(("tea", ["TeacherVector"]));
            columnSets.Add(("ft+tea", ["TextFeatures", "TeacherVector"]));
        }
    }
    var ml = new MLContext(1);
    var (stage, fitFeatures, validFeatures, trainSeconds) = SweepRow.Featurize(ml, fit, valid, options);
    using var _ = stage;

    var cells = new List<string>();
    foreach (var (name, columns) in columnSets)
    {
        foreach (double fraction in new[] { 1.0, 0.1 })
        {
            cells.Add(SweepRow.Cell(ml, $"{name}@{fraction:0.0}", fitFeatures, validFeatures, fraction, columns, withTrain: false));
        }
    }
    var report = stage.Report;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{Path.GetFileName(Path.GetFullPath(dir))} {string.Join(' ', assignments)}{(teacher is null ? "" : $" teacher norm={Microsoft.ML.Coherence.Distillation.VocabularyDistillation.RowNorm} passes={Microsoft.ML.Coherence.Distillation.TeacherRowHead.Passes}")} | {string.Join(' ', cells)} | V={report.VocabularySize} steps={report.Options.Steps} epochs={report.Epochs:F1} train={trainSeconds:F0}s teacher={report.TeacherSeconds:F0}s rows={report.TeacherRows} tloss={report.FinalTeacherLoss:F3} ppl={report.FinalHeldOutPerplexity:F0}"));
    return 0;
}

// Per regime: the stage sees the labels the classifier sees (StageLabel; empty = unlabelled), and each cell gives the
// classifier's validation accuracy and, after a slash, its accuracy on its own training rows (the stacking trap).
static int SweepLabelAware(string dir, int limit, string[] assignments)
{
    var (fit, valid) = SweepRow.Split(dir, limit);
    var cells = new List<string>();
    var details = new List<string>();
    foreach (double fraction in new[] { 1.0, 0.1 })
    {
        foreach (var row in fit)
            row.StageLabel = fraction == 1.0 || row.Labelled > 0.5f ? row.Label : "";
        var options = SweepRow.Options(assignments);
        options.LabelColumnName = nameof(SweepRow.StageLabel);
        var ml = new MLContext(1);
        var (stage, fitFeatures, validFeatures, trainSeconds) = SweepRow.Featurize(ml, fit, valid, options);
        using var _ = stage;
        cells.Add(SweepRow.Cell(ml, $"label@{fraction:0.0}", fitFeatures, validFeatures, fraction, ["Embedding"], withTrain: true));
        cells.Add(SweepRow.Cell(ml, $"ft+label@{fraction:0.0}", fitFeatures, validFeatures, fraction, ["TextFeatures", "Embedding"], withTrain: true));
        var report = stage.Report;
        details.Add(string.Create(CultureInfo.InvariantCulture,
            $"@{fraction:0.0}: steps={report.Options.Steps} train={trainSeconds:F0}s ppl={report.FinalHeldOutPerplexity:F0} head={report.FinalHeldOutLabelAccuracy:F4}"));
    }
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{Path.GetFileName(Path.GetFullPath(dir))} --label-aware {string.Join(' ', assignments)} | {string.Join(' ', cells)} | {string.Join(' ', details)}"));
    return 0;
}

internal sealed class SweepRow
{
    public string Label { get; set; } = "";
    public string Text { get; set; } = "";
    public float Labelled { get; set; }

    /// <summary>The teacher's vector of the row's text (--teacher), else 384 zeros.</summary>
    [Microsoft.ML.Data.VectorType(384)]
    public float[] TeacherVector { get; set; } = new float[384];

    /// <summary>Fills <see cref="TeacherVector"/> of every row from the teacher (its cache makes a second sweep free).</summary>
    public static void AddTeacherVectors(CachedTeacher teacher, List<SweepRow> rows)
    {
        var clock = Stopwatch.StartNew();
        var vectors = teacher.EmbedAll(rows.Select(r => r.Text).ToArray());
        for (int i = 0; i < rows.Count; i++)
            rows[i].TeacherVector = vectors[i];
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"teacher row vectors: {rows.Count} rows in {clock.Elapsed.TotalSeconds:F0}s ({teacher.Encoded} encoded, {teacher.EncodeSeconds:F0}s in the model)"));
    }

    /// <summary>The label the label-aware stage reads; empty on the rows it treats as unlabelled.</summary>
    public string StageLabel { get; set; } = "";

    /// <summary>The first <paramref name="limit"/> rows of DIR/train.tsv: every 5th validates, a seeded 10% of the rest is "labelled".</summary>
    public static (List<SweepRow> Fit, List<SweepRow> Valid) Split(string dir, int limit)
    {
        var rows = LabeledTsv.Read(Path.Combine(dir, "train.tsv")).Take(limit).Select(r => new SweepRow { Label = r.Label, Text = r.Text }).ToList();
        var fit = rows.Where((_, i) => i % 5 != 0).ToList();
        var valid = rows.Where((_, i) => i % 5 == 0).ToList();
        var random = new Random(11);
        foreach (var row in fit)
            row.Labelled = random.NextDouble() < 0.1 ? 1f : 0f;
        foreach (var row in valid)
            row.Labelled = 1f;
        return (fit, valid);
    }

    /// <summary>Seed 1, the library's defaults, then the Option=value <paramref name="assignments"/>.</summary>
    public static CoherenceEmbeddingOptions Options(string[] assignments)
    {
        var options = new CoherenceEmbeddingOptions { Seed = 1 };
        foreach (var assignment in assignments)
            OptionAssignment.Apply(options, assignment);
        return options;
    }

    /// <summary>Fits the stage (timed) and FeaturizeText on <paramref name="fit"/>; both feature columns of both splits, cached.</summary>
    public static (CoherenceEmbeddingTransformer Stage, IDataView Fit, IDataView Valid, double TrainSeconds) Featurize(
        MLContext ml, List<SweepRow> fit, List<SweepRow> valid, CoherenceEmbeddingOptions options)
    {
        var fitData = ml.Data.LoadFromEnumerable(fit);
        var clock = Stopwatch.StartNew();
        var stage = ml.Transforms.Text.CoherenceEmbeddings("Embedding", "Text", options).Fit(fitData);
        double trainSeconds = clock.Elapsed.TotalSeconds;
        var featurizeText = ml.Transforms.Text.FeaturizeText("TextFeatures", "Text").Fit(fitData);
        return (stage,
            ml.Data.Cache(featurizeText.Transform(stage.Transform(fitData))),
            ml.Data.Cache(featurizeText.Transform(stage.Transform(ml.Data.LoadFromEnumerable(valid)))),
            trainSeconds);
    }

    /// <summary>"name=accuracy" (validation; "/train accuracy" too when <paramref name="withTrain"/>) of SDCA on <paramref name="columns"/>.</summary>
    public static string Cell(MLContext ml, string name, IDataView fitFeatures, IDataView validFeatures, double fraction, string[] columns, bool withTrain)
    {
        var train = fraction < 1 ? ml.Data.FilterRowsByColumn(fitFeatures, nameof(Labelled), 0.5, 2) : fitFeatures;
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.Concatenate("Features", columns))
            .Append(ml.Transforms.NormalizeMinMax("Features"))
            .AppendCacheCheckpoint(ml)
            .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy());
        var model = pipeline.Fit(train);
        double valid = ml.MulticlassClassification.Evaluate(model.Transform(validFeatures)).MicroAccuracy;
        if (!withTrain)
            return string.Create(CultureInfo.InvariantCulture, $"{name}={valid:F4}");
        double own = ml.MulticlassClassification.Evaluate(model.Transform(train)).MicroAccuracy;
        return string.Create(CultureInfo.InvariantCulture, $"{name}={valid:F4}/{own:F4}");
    }
}
