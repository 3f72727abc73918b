using Microsoft.ML.Coherence.Corpus;
using Microsoft.ML.Coherence.Internal;
using Microsoft.ML.Coherence.Scoring;
using Microsoft.ML.Coherence.Text;
using Microsoft.ML.Coherence.Training;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Coherence;

/// <summary>
/// Trains coherence-aligned token embeddings on a text column and produces a
/// <see cref="CoherenceEmbeddingTransformer"/> that turns each row's text into a fixed-length feature vector.
/// </summary>
/// <remarks>
/// <format type="text/markdown"><![CDATA[
/// ### Estimator Characteristics
/// |  |  |
/// | -- | -- |
/// | Does this estimator need to look at the data to train its parameters? | Yes |
/// | Input column data type | <xref:System.String> (text); the optional label column (<see cref="CoherenceEmbeddingOptions.LabelColumnName"/>) <xref:System.String> or a key |
/// | Output column data type | Known-size vector of <xref:System.Single>: EmbeddingDimension (Mean) or 2 x EmbeddingDimension (MeanMax) |
/// | Exportable to ONNX | The scoring stage itself is an ONNX graph inside ML.NET's built-in transforms |
/// | Needs TorchSharp | To fit; not to score or load |
///
/// Fit reads the text column twice as a stream (vocabulary, then token ids), counts co-occurrences,
/// builds the PPMI field and trains with TorchSharp on the device chosen from
/// <see cref="MLContext.GpuDeviceId"/> and <see cref="MLContext.FallbackToCpu"/> as they stand when Fit
/// runs (or <see cref="CoherenceEmbeddingOptions.Device"/>). The fitted stage is made of built-in ML.NET
/// transforms (NormalizeText, TokenizeIntoWords, MapValueToKey, ApplyOnnxModel), so a saved model
/// loads and scores without this assembly or libtorch; it scores on the CPU unless
/// <see cref="CoherenceEmbeddingOptions.ScoringGpuDeviceId"/> asks for a GPU. Rows with no known word get
/// a zero vector. Fit stops with <see cref="OperationCanceledException"/> on <see cref="CancellationToken"/>
/// or on <c>MLContext.CancelExecution()</c>.
/// ]]></format>
/// </remarks>
/// <example>See examples/Quickstart/Program.cs.</example>
public sealed class CoherenceEmbeddingEstimator : IEstimator<CoherenceEmbeddingTransformer>
{
    // The user's context: seeds, log, GPU settings and cancellation, all read when Fit runs. With the catalog it is
    // ML.NET's environment behind the MLContext; ML.NET components are then built in a private MLContext that
    // forwards its log there (ComponentContext), since no public API makes an MLContext of an environment.
    private readonly IHostEnvironment _environment;
    private readonly MLContext? _mlContext;
    private readonly CoherenceEmbeddingOptions _options;

    /// <summary>Creates the estimator; prefer <see cref="CoherenceCatalog.CoherenceEmbeddings(TransformsCatalog.TextTransforms, string, string?, CoherenceEmbeddingOptions?)"/>.</summary>
    /// <param name="mlContext">The ML.NET context (seed, log, GPU settings, cancellation), read when <see cref="Fit"/> runs.</param>
    /// <param name="outputColumnName">Name of the output column: a known-size vector of <see cref="float"/>.</param>
    /// <param name="inputColumnName">Name of the input text column (<see cref="string"/>); defaults to <paramref name="outputColumnName"/>.</param>
    /// <param name="options">Training options; null takes the defaults.</param>
    public CoherenceEmbeddingEstimator(MLContext mlContext, string outputColumnName, string? inputColumnName = null, CoherenceEmbeddingOptions? options = null)
        : this((IHostEnvironment)(mlContext ?? throw new ArgumentNullException(nameof(mlContext))), outputColumnName, inputColumnName, options)
    {
        _mlContext = mlContext;
    }

    /// <summary>The catalog's constructor: <paramref name="environment"/> is the environment behind an MLContext's catalogs.</summary>
    internal CoherenceEmbeddingEstimator(IHostEnvironment environment, string outputColumnName, string? inputColumnName, CoherenceEmbeddingOptions? options)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentException.ThrowIfNullOrWhiteSpace(outputColumnName);
        _environment = environment;
        OutputColumnName = outputColumnName;
        InputColumnName = inputColumnName ?? outputColumnName;
        // The scoring chain is built after training; a name it reserves would fail only then and lose the trained model.
        ScoringChainBuilder.ThrowIfIntermediate(OutputColumnName, nameof(outputColumnName));
        ScoringChainBuilder.ThrowIfIntermediate(InputColumnName, nameof(inputColumnName));
        _options = (options ?? new CoherenceEmbeddingOptions()).Clone();
        OptionsValidator.Validate(_options);
    }

    /// <summary>The output column (vector of <see cref="float"/>).</summary>
    public string OutputColumnName { get; }

    /// <summary>The input text column.</summary>
    public string InputColumnName { get; }

    /// <summary>
    /// A copy of the options this estimator trains with. They are fixed when the estimator is created: changing the copy
    /// changes nothing; create another estimator with other options.
    /// </summary>
    public CoherenceEmbeddingOptions GetOptions() => _options.Clone();

    /// <summary>Receives training progress (step, losses, perplexity, coherence, throughput); set with <see cref="WithProgress"/>.</summary>
    public IProgress<CoherenceTrainingProgress>? Progress { get; private init; }

    /// <summary>Cancels a running <see cref="Fit"/>, as <c>MLContext.CancelExecution()</c> does; set with <see cref="WithCancellation"/>.</summary>
    public CancellationToken CancellationToken { get; private init; }

    /// <summary>This estimator, reporting its training progress to <paramref name="progress"/> (null: to nothing but the log).</summary>
    /// <param name="progress">Receives a report up to 200 times a run and at every evaluation.</param>
    /// <returns>A new estimator; this one is unchanged.</returns>
    public CoherenceEmbeddingEstimator WithProgress(IProgress<CoherenceTrainingProgress>? progress) =>
        new(this) { Progress = progress, CancellationToken = CancellationToken };

    /// <summary>This estimator, stopping <see cref="Fit"/> with <see cref="OperationCanceledException"/> when
    /// <paramref name="cancellationToken"/> fires.</summary>
    /// <param name="cancellationToken">The token; <c>MLContext.CancelExecution()</c> stops Fit as well.</param>
    /// <returns>A new estimator; this one is unchanged.</returns>
    public CoherenceEmbeddingEstimator WithCancellation(CancellationToken cancellationToken) =>
        new(this) { Progress = Progress, CancellationToken = cancellationToken };

    private CoherenceEmbeddingEstimator(CoherenceEmbeddingEstimator other)
    {
        (_environment, _mlContext, _options) = (other._environment, other._mlContext, other._options);
        (OutputColumnName, InputColumnName) = (other.OutputColumnName, other.InputColumnName);
    }

    /// <summary>Length of the output vector for these options.</summary>
    public int FeatureLength => _options.Pooling == CoherencePooling.MeanMax ? 2 * _options.EmbeddingDimension : _options.EmbeddingDimension;

    /// <summary>Checks the input column and declares the output: a known-size vector of <see cref="float"/>.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        if (_options.LabelColumnName is string label)
            LabeledCorpus.ValidateColumn(inputSchema, label, Describe);
        return OutputSchemaOf(inputSchema, InputColumnName, OutputColumnName);
    }

    /// <summary>The schema shape check and declaration shared with fitted stages used as estimators.</summary>
    internal static SchemaShape OutputSchemaOf(SchemaShape inputSchema, string inputColumnName, string outputColumnName)
    {
        var found = inputSchema.Where(c => c.Name == inputColumnName).ToArray();
        if (found.Length == 0)
            CoherenceThrow.ColumnNotFound(nameof(inputSchema), inputColumnName);
        var column = found[^1];
        if (column.Kind != SchemaShape.Column.VectorKind.Scalar || column.ItemType is not TextDataViewType)
            CoherenceThrow.SchemaMismatch(nameof(inputSchema), inputColumnName, "String", Describe(column));
        var columns = inputSchema.Where(c => c.Name != outputColumnName).Append(SchemaShapeColumns.FloatVector(outputColumnName));
        return new SchemaShape(columns);
    }

    /// <summary>Trains on the text column of <paramref name="input"/> and returns the fitted transformer.</summary>
    public CoherenceEmbeddingTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ValidateInput(input.Schema, InputColumnName);
        ScoringChainBuilder.ValidateInputSchema(input.Schema, InputColumnName); // a reserved column in the input: fail now, not after training
        if (_options.LabelColumnName is string labelColumn)
            LabeledCorpus.ValidateColumn(input.Schema, labelColumn);
        // Where the fitted stage will score, decided now so that a missing GPU fails before training, not after.
        bool fallbackToCpu = HostEnvironmentSettings.FallbackToCpu(_environment);
        int? scoringGpu = ScoringDevice.Resolve(_options.ScoringGpuDeviceId, fallbackToCpu, message => ComponentContext.Warn(_environment, message));

        long workingSetBefore = Environment.WorkingSet;
        var tokenizer = new CoherenceTokenizer(_mlContext ?? ComponentContext.Create(_environment, seed: 0), _options.SplitPunctuation);
        // The labels are read in one pass of their own (a class index a row); row i of the text is document i.
        var labels = _options.LabelColumnName is string name ? LabeledCorpus.Read(input, name) : null;
        var model = CoherenceEmbeddingEngine.TrainOnPieces(_environment, () => tokenizer.TokenizeToPieces(input, InputColumnName), _options, Progress, CancellationToken,
            labels: labels, rowTexts: rows => ReadRows(input, InputColumnName, rows));
        IdleMemory.Release(_environment, workingSetBefore); // what training allocated and dropped: otherwise it stays resident after Fit
        return CoherenceEmbeddingTransformer.Create(_environment, model, OutputColumnName, InputColumnName, input.Schema, scoringGpu, fallbackToCpu);
    }

    /// <summary>The text of the given rows (ascending indices) of <paramref name="column"/>, in one pass: what a teacher embeds for row distillation.</summary>
    private static IReadOnlyList<string> ReadRows(IDataView input, string column, IReadOnlyList<int> rows)
    {
        var texts = new string[rows.Count];
        var textColumn = input.Schema[column];
        using var cursor = input.GetRowCursor([textColumn]);
        var getter = cursor.GetGetter<ReadOnlyMemory<char>>(textColumn);
        var value = default(ReadOnlyMemory<char>);
        int next = 0;
        for (long row = 0; next < rows.Count && cursor.MoveNext(); row++)
        {
            if (row != rows[next])
                continue;
            getter(ref value);
            texts[next++] = value.ToString();
        }
        if (next != rows.Count)
            throw new InvalidOperationException($"The input column '{column}' gave fewer rows on a second pass than on the first; the data view must give the same rows on every pass.");
        return texts;
    }

    internal static void ValidateInput(DataViewSchema schema, string inputColumn)
    {
        var column = schema.GetColumnOrNull(inputColumn);
        if (column is null)
            CoherenceThrow.ColumnNotFound("input", inputColumn);
        if (column.Value.Type is not TextDataViewType)
            CoherenceThrow.SchemaMismatch("input", inputColumn, "String", column.Value.Type.ToString() ?? "unknown");
    }

    private static string Describe(SchemaShape.Column column)
    {
        // A key column's shape carries the key's raw type (UInt32): say it is a key, as the schema's own type name does.
        string item = column.IsKey ? $"Key<{column.ItemType}>" : column.ItemType.ToString() ?? "unknown";
        return column.Kind switch
        {
            SchemaShape.Column.VectorKind.Scalar => item,
            SchemaShape.Column.VectorKind.Vector => $"Vector<{item}>",
            _ => $"VarVector<{item}>",
        };
    }
}
