using Microsoft.ML.Coherence.Internal;
using Microsoft.ML.Coherence.Scoring;
using Microsoft.ML.Coherence.Text;
using Microsoft.ML.Coherence.Training;
using Microsoft.ML.Data;

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
/// | Input column data type | <xref:System.String> (text) |
/// | Output column data type | Known-size vector of <xref:System.Single>: EmbeddingDimension (Mean, Sif) or 2 x EmbeddingDimension (MeanMax) |
/// | Exportable to ONNX | The scoring stage itself is an ONNX graph inside ML.NET's built-in transforms |
/// | Needs TorchSharp | To fit; not to score or load |
///
/// Fit reads the text column twice as a stream (vocabulary, then token ids), counts co-occurrences,
/// builds the PPMI field and trains with TorchSharp on the device chosen from
/// <see cref="MLContext.GpuDeviceId"/> and <see cref="MLContext.FallbackToCpu"/> (or
/// <see cref="CoherenceEmbeddingOptions.Device"/>). The fitted stage is made of built-in ML.NET
/// transforms (NormalizeText, TokenizeIntoWords, MapValueToKey, ApplyOnnxModel), so a saved model
/// loads and scores without this assembly or libtorch. Rows with no known word get a zero vector.
/// ]]></format>
/// </remarks>
/// <example>See examples/Quickstart/Program.cs.</example>
public sealed class CoherenceEmbeddingEstimator : IEstimator<CoherenceEmbeddingTransformer>
{
    private readonly MLContext _mlContext;
    private readonly CoherenceEmbeddingOptions _options;

    /// <summary>Creates the estimator; prefer <see cref="CoherenceCatalog.CoherenceEmbeddings(TransformsCatalog.TextTransforms, string, string?, CoherenceEmbeddingOptions?)"/>.</summary>
    /// <param name="mlContext">The ML.NET context (seed, log, GPU settings).</param>
    /// <param name="outputColumnName">Name of the output column: a known-size vector of <see cref="float"/>.</param>
    /// <param name="inputColumnName">Name of the input text column (<see cref="string"/>); defaults to <paramref name="outputColumnName"/>.</param>
    /// <param name="options">Training options; null takes the defaults.</param>
    public CoherenceEmbeddingEstimator(MLContext mlContext, string outputColumnName, string? inputColumnName = null, CoherenceEmbeddingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentException.ThrowIfNullOrWhiteSpace(outputColumnName);
        _mlContext = mlContext;
        OutputColumnName = outputColumnName;
        InputColumnName = inputColumnName ?? outputColumnName;
        _options = (options ?? new CoherenceEmbeddingOptions()).Clone();
        OptionsValidator.Validate(_options);
    }

    /// <summary>The output column (vector of <see cref="float"/>).</summary>
    public string OutputColumnName { get; }

    /// <summary>The input text column.</summary>
    public string InputColumnName { get; }

    /// <summary>A copy of the options this estimator trains with.</summary>
    public CoherenceEmbeddingOptions Options => _options.Clone();

    /// <summary>Where training seeds and logs; the MLContext unless the catalog supplied its own environment.</summary>
    internal Microsoft.ML.Runtime.IHostEnvironment? Environment { get; init; }

    /// <summary>Receives training progress (step, losses, perplexity, coherence, throughput).</summary>
    public IProgress<CoherenceTrainingProgress>? Progress { get; set; }

    /// <summary>Cancels a running <see cref="Fit"/>.</summary>
    public CancellationToken CancellationToken { get; set; }

    /// <summary>Length of the output vector for these options.</summary>
    public int FeatureLength => _options.Pooling == CoherencePooling.MeanMax ? 2 * _options.EmbeddingDimension : _options.EmbeddingDimension;

    /// <summary>Checks the input column and declares the output: a known-size vector of <see cref="float"/>.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
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
        var tokenizer = new CoherenceTokenizer(_mlContext, _options.SplitPunctuation);
        var model = CoherenceEmbeddingEngine.Train(_mlContext, () => tokenizer.Tokenize(input, InputColumnName), _options, Progress, CancellationToken, host: Environment);
        return CoherenceEmbeddingTransformer.Create(_mlContext, model, OutputColumnName, InputColumnName, input.Schema);
    }

    internal static void ValidateInput(DataViewSchema schema, string inputColumn)
    {
        var column = schema.GetColumnOrNull(inputColumn);
        if (column is null)
            CoherenceThrow.ColumnNotFound("input", inputColumn);
        if (column.Value.Type is not TextDataViewType)
            CoherenceThrow.SchemaMismatch("input", inputColumn, "String", column.Value.Type.ToString() ?? "unknown");
    }

    private static string Describe(SchemaShape.Column column) => column.Kind switch
    {
        SchemaShape.Column.VectorKind.Scalar => column.ItemType.ToString() ?? "unknown",
        SchemaShape.Column.VectorKind.Vector => $"Vector<{column.ItemType}>",
        _ => $"VarVector<{column.ItemType}>",
    };
}
