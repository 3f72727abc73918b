using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Compression;
using System.Reflection;
using Microsoft.ML.Coherence.Tests.TestData;
using Microsoft.ML.Coherence.Training;
using Microsoft.ML.Data;
using TorchSharp;

namespace Microsoft.ML.Coherence.Tests;

/// <summary>
/// The bad-input matrix (issue 14, item 8): each way a user can hand the stage bad or odd input, through the public
/// API, with the exception type and message it gets, or the documented output where the input is odd but valid.
/// Cases covered in depth elsewhere are named in the test's summary; each kind is still asserted here once.
/// Every training is tiny (d = 16, at most 20 steps), so the class runs in seconds.
/// </summary>
[TestClass]
public sealed class BadInputMatrixTests
{
    private const int Dimension = 16;
    private static readonly List<string> Corpus = PlantedCorpus.Generate(groups: 4, wordsPerGroup: 8, sentences: 80, sentenceLength: 8, inGroupShare: 0.9, seed: 11);
    private static readonly ConcurrentBag<string> TempPaths = [];

    // One small stage, trained on the planted corpus with a null row among its rows; the scoring and zip cases share it.
    private static readonly Lazy<(MLContext Ml, CoherenceEmbeddingTransformer Stage, byte[] Zip)> Shared = new(() =>
    {
        var ml = new MLContext(seed: 1);
        var data = Data(ml, Corpus.Take(40).Append(null).Concat(Corpus.Skip(40)));
        var stage = ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", Tiny(steps: 5)).Fit(data);
        using var zip = new MemoryStream();
        ml.Model.Save(stage, data.Schema, zip);
        return (ml, stage, zip.ToArray());
    });

    private sealed class TextRow
    {
        public string? Text { get; set; }
    }

    private sealed class MixedRow
    {
        public string Text { get; set; } = "";
        public float Number { get; set; }
    }

    private sealed class FeatureRow
    {
        [VectorType]
        public float[] Features { get; set; } = [];
    }

    private static CoherenceEmbeddingOptions Tiny(int steps) => PlantedCorpus.TinyOptions(steps);

    private static IDataView Data(MLContext ml, IEnumerable<string?> texts) => ml.Data.LoadFromEnumerable(texts.Select(t => new TextRow { Text = t }).ToList());

    private static float[][] Features(ITransformer transformer, IDataView data) =>
        transformer.Transform(data).GetColumn<float[]>("Features").ToArray();

    private static string NewTempDirectory(string what)
    {
        string path = Path.Combine(Path.GetTempPath(), $"coherence-matrix-{what}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        TempPaths.Add(path);
        return path;
    }

    /// <summary>The text .NET composes for an <see cref="ArgumentOutOfRangeException"/>: message, parameter, actual value.</summary>
    private static string OutOfRangeMessage(string message, string paramName, object? actualValue) =>
        $"{message} (Parameter '{paramName}')" + (actualValue is null ? "" : $"{Environment.NewLine}Actual value was {actualValue}.");

    private static void RequireNoCuda()
    {
        if (torch.cuda.is_available())
            Assert.Inconclusive("CUDA is available here: this case is about a machine without it.");
    }

    [ClassCleanup]
    public static void DeleteTempPaths()
    {
        foreach (string path in TempPaths)
        {
            if (Directory.Exists(path))
                Directory.Delete(path, recursive: true);
            else
                File.Delete(path);
        }
        if (Shared.IsValueCreated)
            Shared.Value.Stage.Dispose();
    }

    // ---- Empty and null corpora ----

    [TestMethod]
    public void ZeroRowDataViewFailsSayingTheCorpusHasNoTokens()
    {
        var ml = new MLContext(seed: 1);
        var error = Assert.ThrowsExactly<ArgumentException>(() =>
            ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", Tiny(steps: 2)).Fit(Data(ml, [])));
        Assert.AreEqual("The corpus has no tokens; it needs at least one non-empty document. (Parameter 'documents')", error.Message);
    }

    [TestMethod]
    [DataRow("")]
    [DataRow("   ")]
    [DataRow("\t\r\n\u0001\u00A0")]
    [DataRow(",.;!? -- ...")] // punctuation is dropped (SplitPunctuation), so nothing is left
    public void RowsWithoutAWordFailSayingTheCorpusHasNoTokens(string text)
    {
        var ml = new MLContext(seed: 1);
        var error = Assert.ThrowsExactly<ArgumentException>(() =>
            ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", Tiny(steps: 2)).Fit(Data(ml, Enumerable.Repeat(text, 50))));
        Assert.AreEqual("The corpus has no tokens; it needs at least one non-empty document. (Parameter 'documents')", error.Message);
    }

    [TestMethod]
    public void OnlyNullTextsFailSayingTheCorpusHasNoTokens()
    {
        var ml = new MLContext(seed: 1);
        var error = Assert.ThrowsExactly<ArgumentException>(() =>
            ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", Tiny(steps: 2)).Fit(Data(ml, new string?[20])));
        Assert.AreEqual("The corpus has no tokens; it needs at least one non-empty document. (Parameter 'documents')", error.Message);
    }

    /// <summary>
    /// ML.NET reads a null string property as empty text, so through the catalog a null row is an empty document:
    /// it trains (the shared stage has one) and scores as a zero vector, as an empty row does. (The internal
    /// string-enumerable path rejects null rows instead: CoherenceTokenizerTests.NullRowThrowsNamingItsIndex.)
    /// </summary>
    [TestMethod]
    public void NullTextThroughTheCatalogTrainsAndScoresAsAZeroVector()
    {
        var (ml, stage, _) = Shared.Value;
        var features = Features(stage, Data(ml, [null, "", Corpus[0]]));
        CollectionAssert.AreEqual(new float[Dimension], features[0]);
        CollectionAssert.AreEqual(new float[Dimension], features[1]);
        Assert.IsTrue(features[2].Any(v => v != 0), "a row of known words is not zero");

        var engine = ml.Model.CreatePredictionEngine<TextRow, FeatureRow>(stage);
        CollectionAssert.AreEqual(new float[Dimension], engine.Predict(new TextRow { Text = null }).Features);
    }

    [TestMethod]
    public void NullDataViewFailsWithArgumentNullException()
    {
        var ml = new MLContext(seed: 1);
        var error = Assert.ThrowsExactly<ArgumentNullException>(() => ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", Tiny(steps: 2)).Fit(null!));
        Assert.AreEqual("input", error.ParamName);
    }

    [TestMethod]
    [DataRow("a b c a b c", 5, "The vocabulary would hold only unknown tokens; lower MinCount (now 5) to at most 2, the highest token count in this corpus. (Parameter 'minCount')")]
    [DataRow("a b a", 1, "The training corpus has 3 tokens, not more than Window (5): co-occurrence counting needs a corpus longer than the window. Add text, or lower Window. (Parameter 'corpus')")]
    public void CorpusTooSmallForTheOptionsFailsNamingTheOptionToChange(string text, int minCount, string message)
    {
        var ml = new MLContext(seed: 1);
        var options = Tiny(steps: 2);
        options.MinCount = minCount;
        options.NeighborCount = 1;
        options.HeldOutFraction = 0;
        var error = Assert.ThrowsExactly<ArgumentException>(() => ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", options).Fit(Data(ml, [text])));
        Assert.AreEqual(message, error.Message);
    }

    // ---- Wrong and missing input columns ----

    /// <summary>A data view with a text column and one column of each wrong type: float, key, vector of string.</summary>
    private static IDataView WrongTypes(MLContext ml)
    {
        var data = ml.Data.LoadFromEnumerable(new[] { new MixedRow { Text = "a b", Number = 1 }, new MixedRow { Text = "c", Number = 2 } });
        return ml.Transforms.Conversion.MapValueToKey("Key", "Text")
            .Append(ml.Transforms.Text.TokenizeIntoWords("Words", "Text"))
            .Fit(data).Transform(data);
    }

    [TestMethod]
    [DataRow("Body")]
    [DataRow("text")] // column names are case-sensitive, as everywhere in ML.NET
    public void MissingInputColumnFailsInGetOutputSchemaFitAndTransformWithMLNetsWording(string column)
    {
        var ml = new MLContext(seed: 1);
        var data = WrongTypes(ml);
        var estimator = ml.Transforms.Text.CoherenceEmbeddings("Features", column, Tiny(steps: 2));
        var shape = Assert.ThrowsExactly<ArgumentException>(() => estimator.GetOutputSchema(Shapes.Of(data.Schema)));
        Assert.AreEqual($"Could not find input column '{column}' (Parameter 'inputSchema')", shape.Message);
        var fit = Assert.ThrowsExactly<ArgumentException>(() => estimator.Fit(data));
        Assert.AreEqual($"Could not find input column '{column}' (Parameter 'input')", fit.Message);

        // A fitted stage given data without its column fails the same way when scoring.
        var (sharedMl, stage, _) = Shared.Value;
        var withoutText = sharedMl.Data.LoadFromEnumerable(new[] { new { Body = "x" } });
        var transform = Assert.ThrowsExactly<ArgumentException>(() => stage.Transform(withoutText));
        Assert.AreEqual("Could not find input column 'Text' (Parameter 'input')", transform.Message);
    }

    [TestMethod]
    [DataRow("Number", "Single", "Single")]
    [DataRow("Key", "Key<UInt32, 0-1>", "Key<UInt32>")]
    [DataRow("Words", "Vector<String>", "VarVector<String>")]
    public void InputColumnOfTheWrongTypeFailsNamingBothTypes(string column, string typeInData, string typeInShape)
    {
        var ml = new MLContext(seed: 1);
        var data = WrongTypes(ml);
        var estimator = ml.Transforms.Text.CoherenceEmbeddings("Features", column, Tiny(steps: 2));
        var shape = Assert.ThrowsExactly<ArgumentException>(() => estimator.GetOutputSchema(Shapes.Of(data.Schema)));
        Assert.AreEqual($"Schema mismatch for input column '{column}': expected String, got {typeInShape} (Parameter 'inputSchema')", shape.Message);
        var fit = Assert.ThrowsExactly<ArgumentException>(() => estimator.Fit(data));
        Assert.AreEqual($"Schema mismatch for input column '{column}': expected String, got {typeInData} (Parameter 'input')", fit.Message);
    }

    [TestMethod]
    public void ScoringDataWithTheRightNameButTheWrongTypeFails()
    {
        var (ml, stage, _) = Shared.Value;
        var numbers = ml.Data.LoadFromEnumerable(new[] { new { Text = 1f } });
        var error = Assert.ThrowsExactly<ArgumentException>(() => stage.Transform(numbers));
        Assert.AreEqual("Schema mismatch for input column 'Text': expected String, got Single (Parameter 'input')", error.Message);
    }

    [TestMethod]
    [DataRow(null, typeof(ArgumentNullException), "Value cannot be null. (Parameter 'outputColumnName')")]
    [DataRow("", typeof(ArgumentException), "The value cannot be an empty string or composed entirely of whitespace. (Parameter 'outputColumnName')")]
    [DataRow("  ", typeof(ArgumentException), "The value cannot be an empty string or composed entirely of whitespace. (Parameter 'outputColumnName')")]
    public void MissingOutputColumnNameFailsWhenTheStageIsCreated(string? output, Type exceptionType, string message)
    {
        var ml = new MLContext(seed: 1);
        var error = Assert.Throws<ArgumentException>(() => ml.Transforms.Text.CoherenceEmbeddings(output!, "Text"));
        Assert.AreEqual(exceptionType, error.GetType());
        Assert.AreEqual(message, error.Message);
    }

    /// <summary>The scoring chain's own column names are refused before training, not after it (which would lose the model).</summary>
    [TestMethod]
    [DataRow("__coherence_ids__", "Text", "outputColumnName")]
    [DataRow("Features", "__coherence_tokens__", "inputColumnName")]
    public void ReservedColumnNamesAreRefusedWhenTheStageIsCreated(string output, string input, string paramName)
    {
        var ml = new MLContext(seed: 1);
        string reserved = paramName == "outputColumnName" ? output : input;
        var error = Assert.ThrowsExactly<ArgumentException>(() => ml.Transforms.Text.CoherenceEmbeddings(output, input, Tiny(steps: 2)));
        Assert.AreEqual($"Column name '{reserved}' is reserved for the coherence scoring chain; choose another name. (Parameter '{paramName}')", error.Message);
    }

    [TestMethod]
    public void InputWithAReservedColumnFailsBeforeTraining()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Corpus.Select(t => new { Text = t, __coherence_tokens__ = 1f }));
        var estimator = ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", Tiny(steps: 20));
        int reports = 0;
        estimator = estimator.WithProgress(new SynchronousProgress(_ => reports++));
        var error = Assert.ThrowsExactly<ArgumentException>(() => estimator.Fit(data));
        Assert.AreEqual("The input already has a column named '__coherence_tokens__', which the coherence scoring chain uses internally; rename that column. (Parameter 'inputSchema')", error.Message);
        Assert.AreEqual(0, reports, "no training step ran");
    }

    // ---- Every invalid option value ----

    /// <summary>
    /// Each row: the option, an out-of-range value, what the message says is valid, and Layers (some checks apply only
    /// with Transformer layers). Checked when the estimator is created. <see cref="EveryPublicSettableOptionHasAMatrixRow"/>
    /// fails when an option has no row here, in <see cref="OptionCheckedWhenFitRunsFailsBeforeTraining"/>, in
    /// <see cref="UnknownDeviceNameFailsBeforeTheCorpusIsRead"/>, or in <see cref="OptionsWithoutAnInvalidValue"/>.
    /// </summary>
    [TestMethod]
    [DataRow("EmbeddingDimension", 0, "greater than 0", 0)]
    [DataRow("EmbeddingDimension", -16, "greater than 0", 0)]
    [DataRow("Layers", -1, "0 (static embeddings) to 48", 0)]
    [DataRow("Layers", 49, "0 (static embeddings) to 48", 0)]
    [DataRow("Heads", 0, "greater than 0", 2)]
    [DataRow("Heads", 3, "a divisor of EmbeddingDimension (16)", 2)]
    [DataRow("ContextLength", 1, "2 or more", 0)]
    [DataRow("StaticContextSize", 0, "greater than 0", 0)]
    [DataRow("MinCount", 0, "greater than 0", 0)]
    [DataRow("MaxVocabularySize", 1, "2 or more (the unknown token included)", 0)]
    [DataRow("Window", 0, "1 to 16", 0)]
    [DataRow("Window", 17, "1 to 16", 0)]
    [DataRow("ContextSmoothing", 0.0, "greater than 0 and at most 1", 0)]
    [DataRow("ContextSmoothing", 1.5, "greater than 0 and at most 1", 0)]
    [DataRow("ContextSmoothing", double.NaN, "greater than 0 and at most 1", 0)]
    [DataRow("NeighborCount", 0, "greater than 0", 0)]
    [DataRow("CoherenceWeight", -1f, "a finite number, 0 or more", 0)]
    [DataRow("CoherenceWeight", float.NaN, "a finite number, 0 or more", 0)]
    [DataRow("CoherenceWeight", float.PositiveInfinity, "a finite number, 0 or more", 0)]
    [DataRow("UniformityWeight", -0.5f, "a finite number, 0 or more", 0)]
    [DataRow("CoherenceWarmupFraction", -0.1f, "0 to 1", 0)]
    [DataRow("CoherenceWarmupFraction", 1.5f, "0 to 1", 0)]
    [DataRow("Temperature", 0f, "a finite number greater than 0", 0)]
    [DataRow("Temperature", -1f, "a finite number greater than 0", 0)]
    [DataRow("Temperature", float.NaN, "a finite number greater than 0", 0)]
    [DataRow("Temperature", float.PositiveInfinity, "a finite number greater than 0", 0)]
    [DataRow("CoherenceNegatives", -1, "0 or more", 0)]
    [DataRow("AnchorsPerStep", 0, "greater than 0", 0)]
    [DataRow("SampledSoftmaxNegatives", -1, "0 (full softmax) or more", 0)]
    [DataRow("Steps", 0, "null (from Epochs) or greater than 0; 0 (keep the distilled table untrained) needs a Teacher", 0)]
    [DataRow("Steps", -5, "null (from Epochs) or greater than 0; 0 (keep the distilled table untrained) needs a Teacher", 0)]
    [DataRow("Epochs", 0f, "a finite number greater than 0", 0)]
    [DataRow("Epochs", float.NaN, "a finite number greater than 0", 0)]
    [DataRow("Epochs", float.PositiveInfinity, "a finite number greater than 0", 0)]
    [DataRow("BatchSize", 0, "greater than 0", 0)]
    [DataRow("LearningRate", 0f, "a finite number greater than 0", 0)]
    [DataRow("LearningRate", float.PositiveInfinity, "a finite number greater than 0", 0)]
    [DataRow("WeightDecay", -1f, "a finite number, 0 or more", 0)]
    [DataRow("LearningRateWarmupFraction", 2f, "0 to 1", 0)]
    [DataRow("GradientClipNorm", -1f, "a finite number, 0 or more", 0)]
    [DataRow("GradientClipNorm", float.NaN, "a finite number, 0 or more", 0)]
    [DataRow("EvaluationInterval", -1, "0 (only at the end) or more", 0)]
    [DataRow("HeldOutFraction", -0.1f, "0 to less than 0.5", 0)]
    [DataRow("HeldOutFraction", 0.5f, "0 to less than 0.5", 0)]
    [DataRow("Pooling", (CoherencePooling)9, "Mean or MeanMax", 0)]
    [DataRow("ScoringGpuDeviceId", -1, "null (score on the CPU) or a GPU index, 0 or more", 0)]
    [DataRow("CheckpointInterval", 0, "greater than 0", 0)]
    [DataRow("LabelColumnName", "  ", "null (no label) or the name of a String, Boolean or Key column", 0)]
    [DataRow("LabelWeight", -1f, "a finite number, 0 or more", 0)]
    [DataRow("LabelWeight", float.NaN, "a finite number, 0 or more", 0)]
    [DataRow("LabelBatchSize", 0, "greater than 0", 0)]
    [DataRow("LabelEpochs", 0f, "a finite number greater than 0", 0)]
    [DataRow("LabelEpochs", float.PositiveInfinity, "a finite number greater than 0", 0)]
    [DataRow("LabelHoldOutFraction", 0.5f, "0 to less than 0.5", 0)]
    [DataRow("LabelHoldOutFraction", -0.1f, "0 to less than 0.5", 0)]
    [DataRow("TeacherRowWeight", -1f, "a finite number, 0 or more", 0)]
    [DataRow("TeacherRowWeight", float.NaN, "a finite number, 0 or more", 0)]
    [DataRow("TeacherRowSample", -1, "0 (no row distillation) or more", 0)]
    [DataRow("TeacherBatchSize", 0, "greater than 0", 0)]
    public void InvalidOptionFailsWhenTheStageIsCreatedNamingItsValueAndTheValidRange(string option, object value, string valid, int layers)
    {
        var options = new CoherenceEmbeddingOptions { EmbeddingDimension = Dimension, Layers = layers };
        typeof(CoherenceEmbeddingOptions).GetProperty(option)!.SetValue(options, value);
        var ml = new MLContext(seed: 1);

        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", options));
        Assert.AreEqual(option, error.ParamName);
        Assert.AreEqual(value, error.ActualValue);
        Assert.AreEqual(OutOfRangeMessage($"Option '{option}' is {value}; valid: {valid}.", option, value), error.Message);
        // The estimator's constructor checks the same way.
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new CoherenceEmbeddingEstimator(ml, "Features", "Text", options));
    }

    /// <summary>Options whose valid range depends on the data or the machine: checked when Fit runs, before any training step.</summary>
    [TestMethod]
    [DataRow("NeighborCount", "40", "1..6: the vocabulary has 7 tokens (the unknown token included); lower NeighborCount or MinCount")]
    [DataRow("CheckpointDirectory", "  ", "null (no checkpoints) or a folder this process can create and write")]
    [DataRow("CheckpointDirectory", "<a folder inside a file>", "a folder this process can create and write (")]
    public void OptionCheckedWhenFitRunsFailsBeforeTraining(string option, string value, string valid)
    {
        var options = Tiny(steps: 2);
        options.HeldOutFraction = 0;
        options.NeighborCount = 1;
        object shown = value;
        if (option == nameof(CoherenceEmbeddingOptions.NeighborCount))
            options.NeighborCount = int.Parse(value, CultureInfo.InvariantCulture);
        else
        {
            if (value.StartsWith('<'))
            {
                string file = Path.Combine(NewTempDirectory("file"), "a-file");
                File.WriteAllText(file, "not a folder");
                value = Path.Combine(file, "checkpoints");
            }
            options.CheckpointDirectory = value;
            shown = $"'{value}'";
        }
        var ml = new MLContext(seed: 1);
        var estimator = ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", options);
        int reports = 0;
        estimator = estimator.WithProgress(new SynchronousProgress(_ => reports++));

        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => estimator.Fit(Data(ml, ["a b c a b c a b c d e f"])));
        Assert.AreEqual(option, error.ParamName);
        StringAssert.StartsWith(error.Message, $"Option '{option}' is {shown}; valid: {valid}");
        Assert.AreEqual(0, reports);
    }

    /// <summary>Options every value of which is valid: booleans, and the seed (any int seeds the run); and the teacher, any
    /// embedding generator, whose bad answers fail in Fit (TeacherTests.ABadTeacherStopsFitBeforeTrainingWithAnErrorNamingTheOption).</summary>
    private static readonly string[] OptionsWithoutAnInvalidValue =
    [
        nameof(CoherenceEmbeddingOptions.Teacher),
        nameof(CoherenceEmbeddingOptions.SplitPunctuation), nameof(CoherenceEmbeddingOptions.TieOutputEmbedding), nameof(CoherenceEmbeddingOptions.ResumeFromCheckpoint), nameof(CoherenceEmbeddingOptions.Seed),
    ];

    [TestMethod]
    public void EveryPublicSettableOptionHasAMatrixRow()
    {
        static IEnumerable<string> OptionsIn(string method) => typeof(BadInputMatrixTests).GetMethod(method)!
            .GetCustomAttributes<DataRowAttribute>().Select(row => (string)row.Data[0]!);
        var covered = OptionsIn(nameof(InvalidOptionFailsWhenTheStageIsCreatedNamingItsValueAndTheValidRange))
            .Concat(OptionsIn(nameof(OptionCheckedWhenFitRunsFailsBeforeTraining)))
            .Append(nameof(CoherenceEmbeddingOptions.Device)) // UnknownDeviceNameFailsBeforeTheCorpusIsRead
            .Concat(OptionsWithoutAnInvalidValue)
            .ToHashSet();
        var settable = typeof(CoherenceEmbeddingOptions).GetProperties(BindingFlags.Instance | BindingFlags.Public)
            .Where(p => p.CanWrite && p.SetMethod!.IsPublic).Select(p => p.Name).ToArray();

        var missing = settable.Where(name => !covered.Contains(name)).ToArray();
        Assert.AreEqual(0, missing.Length, "options without a row in the bad-input matrix: " + string.Join(", ", missing));
        var unknown = covered.Where(name => !settable.Contains(name)).ToArray();
        Assert.AreEqual(0, unknown.Length, "matrix rows for options that do not exist: " + string.Join(", ", unknown));
    }

    // ---- Unknown and unavailable devices ----

    [TestMethod]
    [DataRow("tpu")]
    [DataRow("cuda:x")]
    [DataRow("cuda:-1")]
    [DataRow("gpu")]
    [DataRow("")]
    public void UnknownDeviceNameFailsBeforeTheCorpusIsRead(string device)
    {
        var ml = new MLContext(seed: 1);
        var options = Tiny(steps: 2);
        options.Device = device;
        int rowsRead = 0;
        var data = ml.Data.LoadFromEnumerable(Corpus.Select(t => { rowsRead++; return new TextRow { Text = t }; }));

        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", options).Fit(data));
        Assert.AreEqual("Device", error.ParamName);
        Assert.AreEqual(OutOfRangeMessage(
            $"Option 'Device' is {device}; valid: null (follow MLContext.GpuDeviceId), \"cpu\", \"cuda\" or \"cuda:N\".", "Device", device), error.Message);
        Assert.AreEqual(0, rowsRead);
    }

    /// <summary>
    /// An explicit CUDA device is a demand, not a preference: without CUDA it fails whatever <c>FallbackToCpu</c> says
    /// (that setting governs <c>MLContext.GpuDeviceId</c>). GpuSettingsTests covers GpuDeviceId in depth.
    /// </summary>
    [TestMethod]
    [DataRow("cuda", false)]
    [DataRow("cuda", true)]
    [DataRow("cuda:1", true)]
    [DataRow(" CUDA:0 ", false)]
    public void CudaDeviceWithoutCudaFailsBeforeTheCorpusIsReadWithOrWithoutFallback(string device, bool fallbackToCpu)
    {
        RequireNoCuda();
        var ml = new MLContext(seed: 1) { FallbackToCpu = fallbackToCpu };
        var options = Tiny(steps: 2);
        options.Device = device;
        int rowsRead = 0;
        var data = ml.Data.LoadFromEnumerable(Corpus.Select(t => { rowsRead++; return new TextRow { Text = t }; }));

        var error = Assert.ThrowsExactly<InvalidOperationException>(() => ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", options).Fit(data));
        Assert.AreEqual($"Option 'Device' asks for '{device}', but CUDA is not available: the application needs a CUDA libtorch backend package " +
            "(for example TorchSharp-cuda-linux) and a CUDA driver; or set Device = \"cpu\".", error.Message);
        Assert.AreEqual(0, rowsRead);
    }

    [TestMethod]
    public void GpuDeviceIdWithoutCudaFailsWithoutFallbackAndTrainsOnTheCpuWithIt()
    {
        RequireNoCuda();
        var ml = new MLContext(seed: 1) { GpuDeviceId = 0, FallbackToCpu = false };
        var estimator = ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", Tiny(steps: 2));
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => estimator.Fit(Data(ml, Corpus)));
        Assert.AreEqual("MLContext.GpuDeviceId is 0, but CUDA is not available: the application needs a CUDA libtorch backend package " +
            "(for example TorchSharp-cuda-linux) and a CUDA driver; or set MLContext.FallbackToCpu = true or GpuDeviceId = null.", error.Message);

        ml.FallbackToCpu = true;
        using var stage = estimator.Fit(Data(ml, Corpus));
        Assert.AreEqual("cpu", stage.Report.Device, ignoreCase: true);
        Assert.AreEqual(Dimension, Features(stage, Data(ml, [Corpus[0]]))[0].Length);
    }

    // ---- A 1 MB row ----

    [TestMethod]
    public void OneMegabyteRowTrainsAndScoresToAFiniteVectorOfTheRightLength()
    {
        var words = PlantedCorpus.Generate(groups: 4, wordsPerGroup: 8, sentences: 30_000, sentenceLength: 8, inGroupShare: 0.9, seed: 13);
        string document = string.Join(' ', words);
        document = document[..document.LastIndexOf(' ', 1_000_000)];
        Assert.IsTrue(document.Length is > 990_000 and <= 1_000_000, $"{document.Length} characters");

        var ml = new MLContext(seed: 1);
        var options = Tiny(steps: 5);
        using var stage = ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", options).Fit(Data(ml, [document]));
        Assert.IsGreaterThan(150_000L, stage.Report.TrainingTokens, "the whole row is trained on");

        var features = Features(stage, Data(ml, [document, "g0w1"]));
        Assert.HasCount(Dimension, features[0]);
        Assert.IsTrue(features[0].All(float.IsFinite), "finite features");
        Assert.IsTrue(features[0].Any(v => v != 0), "the row has known words");
    }

    // ---- CJK, emoji and control characters ----

    private static readonly string[] UnusualTexts =
    [
        "日本語 テキスト 中文 한국어 日本語のテキストは空白なしで一語",
        "emoji 😀 👍🏽 👨‍👩‍👧 🇩🇪 mixed😀text",
        "control\u0000nul\u0001soh\u0007bell\u001B[31mred\u001B[0m\u007Fdel\u0085nel end",
        "tabs\tand\nnew\r\nlines\u2028line\u2029para\u00A0nbsp\u3000ideographic",
        "שלום עולם مرحبا combining e\u0301 precomposed é ＦＵＬＬ width",
    ];

    /// <summary>
    /// Odd but valid text trains; no vocabulary token holds white space or a control character (the tokenizer's own
    /// cases are in CoherenceTokenizerTests); CJK without spaces stays one word (ML.NET splits on separators, it does not
    /// segment words); a ZWJ emoji sequence splits at its joiners (U+200D is one of the zero-width separators); features
    /// are finite and identical after save and load in a fresh context.
    /// </summary>
    [TestMethod]
    public void CjkEmojiAndControlCharactersGiveCleanTokensAndFeaturesThatSurviveSaveAndLoad()
    {
        var ml = new MLContext(seed: 1);
        var corpus = Enumerable.Range(0, 30).SelectMany(_ => UnusualTexts).ToList();
        var data = Data(ml, corpus);
        using var stage = ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", Tiny(steps: 5)).Fit(data);

        var tokens = stage.Vocabulary.Tokens.Skip(1).ToArray();
        var dirty = tokens.Where(t => t.Length == 0 || t.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))).ToArray();
        Assert.AreEqual(0, dirty.Length, "tokens with white space or control characters: " + string.Join(" | ", dirty.Select(t => string.Join(",", t.Select(c => ((int)c).ToString("X4", CultureInfo.InvariantCulture))))));
        string vocabulary = string.Join(" ", tokens);
        foreach (string expected in new[] { "日本語のテキストは空白なしで一語", "😀", "👨", "nul", "ｆｕｌｌ" })
            CollectionAssert.Contains(tokens, expected, vocabulary);

        var before = Features(stage, Data(ml, UnusualTexts));
        Assert.IsTrue(before.All(row => row.Length == Dimension && row.All(float.IsFinite) && row.Any(v => v != 0)), "finite, non-zero features");
        using var zip = new MemoryStream();
        ml.Model.Save(stage, data.Schema, zip);
        zip.Position = 0;
        var fresh = new MLContext(seed: 2);
        var loaded = fresh.Model.Load(zip, out _);
        var after = Features(loaded, Data(fresh, UnusualTexts));
        for (int r = 0; r < before.Length; r++)
            CollectionAssert.AreEqual(before[r], after[r], $"row {r}");

        // The tokens are exportable: every one fits a word2vec line.
        string vectors = Path.Combine(NewTempDirectory("w2v"), "vectors.txt");
        stage.ExportWord2Vec(vectors);
        Assert.HasCount(stage.Vocabulary.Count + 1, File.ReadAllLines(vectors));
    }

    /// <summary>
    /// Half of a surrogate pair (possible in a .NET string, not in UTF-8 text) keeps its word out of the vocabulary: the word
    /// scores as unknown before and after save and load, and both exports hold every token exactly (before, safetensors
    /// wrote U+FFFD in its place and word2vec refused the whole export). A whole pair is an ordinary character.
    /// </summary>
    [TestMethod]
    public void WordsWithLoneSurrogatesAreUnknownSoBothExportsHoldEveryTokenExactly()
    {
        var ml = new MLContext(seed: 1);
        string[] texts = ["high\uD83D alone", "low \uDE00 alone", "pair \uD83D\uDE00 whole", "x\uDBFFy mid word"];
        var data = Data(ml, Enumerable.Range(0, 30).SelectMany(_ => texts).ToList());
        var options = Tiny(steps: 5);
        options.NeighborCount = 4; // the vocabulary has 8 tokens
        using var stage = ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", options).Fit(data);
        var tokens = stage.Vocabulary.Tokens.ToList();
        CollectionAssert.Contains(tokens, "\uD83D\uDE00");
        foreach (string invalid in new[] { "high\uD83D", "\uDE00", "x\uDBFFy" })
            CollectionAssert.DoesNotContain(tokens, invalid);

        var before = Features(stage, Data(ml, ["x\uDBFFy", "high\uD83D", ""]));
        CollectionAssert.AreEqual(before[2], before[0], "a word with a lone surrogate scores as no known word");
        CollectionAssert.AreEqual(before[2], before[1]);
        using var zip = new MemoryStream();
        ml.Model.Save(stage, data.Schema, zip);
        zip.Position = 0;
        var fresh = new MLContext(seed: 2);
        var after = Features(fresh.Model.Load(zip, out _), Data(fresh, texts));
        var original = Features(stage, Data(ml, texts));
        for (int r = 0; r < texts.Length; r++)
            CollectionAssert.AreEqual(original[r], after[r], $"row {r}");

        string folder = NewTempDirectory("exports");
        stage.ExportWord2Vec(Path.Combine(folder, "vectors.txt"));
        CollectionAssert.AreEqual(tokens.Skip(1).ToArray(), File.ReadAllLines(Path.Combine(folder, "vectors.txt")).Skip(2).Select(l => l[..l.IndexOf(' ')]).ToArray());
        stage.ExportSafetensors(Path.Combine(folder, "vectors.safetensors"));
        CollectionAssert.AreEqual(tokens, SafetensorsVocabulary(Path.Combine(folder, "vectors.safetensors")), "every token exactly, the unknown one included");

        // The word2vec guard still stands for a vocabulary made elsewhere.
        var error = Assert.ThrowsExactly<ArgumentException>(() =>
            Scoring.EmbeddingExport.WriteWord2Vec(Path.Combine(folder, "bad.txt"), ["<unk>", "x\uDBFFy"], new float[4], 2));
        StringAssert.StartsWith(error.Message, "Token 1 ('x\\uDBFFy') is empty or holds white space, a control character or half of a surrogate pair");
        Assert.IsFalse(File.Exists(Path.Combine(folder, "bad.txt")));
    }

    private static string[] SafetensorsVocabulary(string path)
    {
        using var reader = new BinaryReader(File.OpenRead(path));
        int length = (int)reader.ReadUInt64();
        using var header = System.Text.Json.JsonDocument.Parse(reader.ReadBytes(length));
        string vocabulary = header.RootElement.GetProperty("__metadata__").GetProperty("vocabulary").GetString()!;
        return System.Text.Json.JsonSerializer.Deserialize<string[]>(vocabulary)!;
    }

    // ---- Damaged checkpoints ----

    private static CoherenceEmbeddingOptions CheckpointOptions(string directory)
    {
        var options = Tiny(steps: 20);
        options.CheckpointDirectory = directory;
        options.CheckpointInterval = 5;
        return options;
    }

    // A run stopped after step 13, leaving the checkpoints of steps 5 and 10; each case damages a copy of it.
    private static readonly Lazy<string> InterruptedRun = new(() =>
    {
        string directory = NewTempDirectory("interrupted");
        var ml = new MLContext(seed: 1);
        var estimator = ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", CheckpointOptions(directory));
        using var cancel = new CancellationTokenSource();
        estimator = estimator.WithCancellation(cancel.Token);
        estimator = estimator.WithProgress(new SynchronousProgress(p => { if (p.Step == 13) cancel.Cancel(); }));
        Assert.ThrowsExactly<OperationCanceledException>(() => estimator.Fit(Data(ml, Corpus)));
        CollectionAssert.AreEquivalent(new[] { CheckpointStore.FileName(5), CheckpointStore.FileName(10) },
            Directory.GetFiles(directory).Select(Path.GetFileName).ToArray());
        return directory;
    });

    /// <summary>
    /// Each damage is skipped with a warning that names the file, and training resumes from the newest intact checkpoint
    /// (0: none left, it starts over). CheckpointStoreTests proves the resumed run ends bit-identical to an uninterrupted one.
    /// </summary>
    [TestMethod]
    [DataRow("truncated newest", 5, "it is truncated or has trailing bytes (")]
    [DataRow("empty newest", 5, "it is empty or not a regular file")]
    [DataRow("bit-flipped newest", 5, "its SHA-256 checksum does not match its contents (the file is damaged)")]
    [DataRow("garbage newest", 10, "it is not a coherence checkpoint")]
    [DataRow("every checkpoint bit-flipped", 0, "its SHA-256 checksum does not match its contents (the file is damaged)")]
    public void DamagedCheckpointIsSkippedWithAWarningNamingItAndTrainingResumesFromTheNewestIntactOne(string damage, int resumedFrom, string reason)
    {
        string directory = NewTempDirectory("damaged");
        foreach (string file in Directory.GetFiles(InterruptedRun.Value))
            File.Copy(file, Path.Combine(directory, Path.GetFileName(file)));
        string Checkpoint(int step) => Path.Combine(directory, CheckpointStore.FileName(step));
        void FlipABit(string path)
        {
            byte[] bytes = File.ReadAllBytes(path);
            bytes[bytes.Length * 2 / 3] ^= 0x10;
            File.WriteAllBytes(path, bytes);
        }

        string[] damaged;
        switch (damage)
        {
            case "truncated newest":
                File.WriteAllBytes(Checkpoint(10), File.ReadAllBytes(Checkpoint(10))[..1000]);
                damaged = [Checkpoint(10)];
                break;
            case "empty newest":
                File.WriteAllBytes(Checkpoint(10), []);
                damaged = [Checkpoint(10)];
                break;
            case "bit-flipped newest":
                FlipABit(Checkpoint(10));
                damaged = [Checkpoint(10)];
                break;
            case "garbage newest":
                File.WriteAllBytes(Checkpoint(15), Enumerable.Range(0, 5000).Select(i => (byte)(i * 7919 % 251)).ToArray());
                damaged = [Checkpoint(15)];
                break;
            default:
                FlipABit(Checkpoint(10));
                FlipABit(Checkpoint(5));
                damaged = [Checkpoint(10), Checkpoint(5)];
                break;
        }

        var ml = new MLContext(seed: 1);
        var log = new List<string>();
        ml.Log += (_, e) => { lock (log) log.Add(e.RawMessage); };
        using var stage = ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", CheckpointOptions(directory)).Fit(Data(ml, Corpus));

        Assert.AreEqual(resumedFrom == 0 ? null : resumedFrom, stage.Report.ResumedFromStep);
        lock (log)
        {
            foreach (string path in damaged)
                Assert.AreEqual(1, log.Count(m => m.StartsWith($"Warning: skipped the checkpoint '{path}': {reason}", StringComparison.Ordinal)
                    && m.EndsWith(". Trying the one before it.", StringComparison.Ordinal)), string.Join("\n", log));
            Assert.AreEqual(resumedFrom == 0 ? 0 : 1, log.Count(m => m == $"Resumed from the checkpoint of step {resumedFrom} in '{directory}'."));
        }
        Assert.AreEqual(20, stage.Report.Options.Steps);
        Assert.IsTrue(stage.GetEmbeddingMatrix().All(float.IsFinite));
    }

    // ---- Corrupt model zips ----

    /// <summary>
    /// What ML.NET's <c>mlContext.Model.Load</c> does with a file that is not a whole model zip (documented, not ours to
    /// change): a damaged archive fails with <see cref="FormatException"/> "Failed to open a zip archive", with
    /// System.IO.Compression's reason as the inner exception; a readable zip without a model fails with
    /// <see cref="InvalidOperationException"/> "Could not load legacy format model". Neither names the file.
    /// </summary>
    [TestMethod]
    [DataRow("truncated", typeof(FormatException), "Failed to open a zip archive", "End of Central Directory record could not be found.")]
    [DataRow("random bytes", typeof(FormatException), "Failed to open a zip archive", "End of Central Directory record could not be found.")]
    [DataRow("empty", typeof(FormatException), "Failed to open a zip archive", "Central Directory corrupt.")]
    [DataRow("zip without a model", typeof(InvalidOperationException), "Could not load legacy format model", null)]
    public void CorruptModelZipFailsInModelLoad(string damage, Type exceptionType, string message, string? innerMessage)
    {
        var (_, _, zip) = Shared.Value;
        byte[] bytes = damage switch
        {
            "truncated" => zip[..(zip.Length / 2)],
            "random bytes" => RandomBytes(zip.Length),
            "empty" => [],
            _ => ZipWithOneEntry("readme.txt", "not a model"),
        };
        string path = Path.Combine(NewTempDirectory("zip"), "model.zip");
        File.WriteAllBytes(path, bytes);

        var fresh = new MLContext(seed: 1);
        var error = Assert.Throws<Exception>(() => fresh.Model.Load(path, out _));
        Assert.AreEqual(exceptionType, error.GetType(), error.ToString());
        Assert.AreEqual(message, error.Message);
        if (innerMessage is not null)
        {
            Assert.IsInstanceOfType<InvalidDataException>(error.InnerException);
            Assert.AreEqual(innerMessage, error.InnerException.Message);
        }

        // The intact bytes load and score, so the failures above are the damage's.
        var loaded = fresh.Model.Load(new MemoryStream(zip), out _);
        Assert.HasCount(Dimension, Features(loaded, Data(fresh, [Corpus[0]]))[0]);
    }

    [TestMethod]
    public void TwoHundredThousandDistinctTokensKeepTheMostFrequentUpToTheDefaultCap()
    {
        // 200,000 distinct tokens, each twice, and 500 common ones 40 times each, in rows of 100 tokens; library defaults.
        var tokens = Enumerable.Range(0, 200_000).SelectMany(i => new[] { $"r{i:x}", $"r{i:x}" })
            .Concat(Enumerable.Range(0, 20_000).Select(i => $"c{i % 500}"))
            .OrderBy(token => token.GetHashCode(StringComparison.Ordinal) ^ token.Length) // interleaved, deterministically
            .ThenBy(token => token, StringComparer.Ordinal)
            .ToArray();
        var rows = tokens.Chunk(100).Select(row => string.Join(' ', row)).ToList();
        var ml = new MLContext(seed: 1);
        var options = new CoherenceEmbeddingOptions { Seed = 1, Steps = 2, EvaluationInterval = 0, HeldOutFraction = 0 };
        using var stage = ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", options).Fit(Data(ml, rows));

        Assert.AreEqual(CoherenceEmbeddingOptions.Defaults.MaxVocabularySize, stage.Vocabulary.Count);
        Assert.IsTrue(Enumerable.Range(0, 500).All(i => stage.Vocabulary.TryGetId($"c{i}", out _)), "every common token is kept");
        Assert.AreEqual(2L * (200_000 - (stage.Vocabulary.Count - 1 - 500)), stage.Vocabulary.GetFrequency(0), "the rare tokens past the cap are unknown");
        var features = Features(stage, Data(ml, ["c7 c8", "r2fff0"]));
        Assert.AreEqual(1.0, Math.Sqrt(features[0].Sum(v => (double)v * v)), 1e-5, "known tokens give a unit vector");
        Assert.IsTrue(features[1].All(v => v == 0), "a token past the cap is unknown: a zero vector");
    }

    /// <summary>
    /// A model zip whose ONNX graph was replaced (the zip itself intact): ML.NET loads the saved chain without this library, so
    /// what happens is ML.NET's and ONNX Runtime's, recorded here. Garbage fails at once in <c>Model.Load</c> ("Error during
    /// class instantiation", ONNX Runtime's parse error inside) with no large allocation; a well-formed graph of another model
    /// loads and scores vectors of that model's dimension, which a downstream model fitted on the original refuses when it binds.
    /// </summary>
    [TestMethod]
    public void AModelZipWithAReplacedOnnxGraphFailsAtOnceOrScoresAsTheGraphSays()
    {
        const string Graph = "TransformerChain/Transform_000/Transform_003/OnnxModel";
        var (ml, _, zip) = Shared.Value;
        var options = Tiny(steps: 2);
        options.EmbeddingDimension = 8;
        var data = Data(ml, Corpus);
        using var other = ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", options).Fit(data);
        using var otherZip = new MemoryStream();
        ml.Model.Save(other, data.Schema, otherZip);
        byte[] otherGraph = ReadEntry(otherZip.ToArray(), Graph);
        Assert.HasCount(1, ReadEntries(zip).Where(name => name.EndsWith("/OnnxModel", StringComparison.Ordinal)), "the chain holds one graph, the stage's");

        var fresh = new MLContext(seed: 1);
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var garbage = Assert.Throws<Exception>(() => fresh.Model.Load(new MemoryStream(WithEntry(zip, Graph, RandomBytes(otherGraph.Length))), out _));
        Assert.IsLessThan(256L << 20, GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore, "nothing large allocated for the garbage graph");
        Assert.AreEqual(typeof(InvalidOperationException), garbage.GetType(), garbage.ToString());
        Assert.AreEqual("Error during class instantiation", garbage.Message);

        var foreign = fresh.Model.Load(new MemoryStream(WithEntry(zip, Graph, otherGraph)), out var schema);
        Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Single, 8), foreign.GetOutputSchema(schema)["Features"].Type);
        Assert.HasCount(8, Features(foreign, Data(fresh, [Corpus[0]]))[0]);
    }

    private static IEnumerable<string> ReadEntries(byte[] zip)
    {
        using var archive = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read);
        return archive.Entries.Select(entry => entry.FullName).ToList();
    }

    private static byte[] ReadEntry(byte[] zip, string name)
    {
        using var archive = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read);
        using var entry = archive.GetEntry(name)!.Open();
        using var bytes = new MemoryStream();
        entry.CopyTo(bytes);
        return bytes.ToArray();
    }

    private static byte[] WithEntry(byte[] zip, string name, byte[] content)
    {
        using var stream = new MemoryStream();
        stream.Write(zip);
        using (var archive = new ZipArchive(stream, ZipArchiveMode.Update, leaveOpen: true))
        {
            archive.GetEntry(name)!.Delete();
            using var entry = archive.CreateEntry(name).Open();
            entry.Write(content);
        }
        return stream.ToArray();
    }

    private static byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        new Random(17).NextBytes(bytes);
        return bytes;
    }

    private static byte[] ZipWithOneEntry(string name, string content)
    {
        using var stream = new MemoryStream();
        using (var archive = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            using var writer = new StreamWriter(archive.CreateEntry(name).Open());
            writer.Write(content);
        }
        return stream.ToArray();
    }
}
