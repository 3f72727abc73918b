using Microsoft.ML.Coherence.Internal;
using Microsoft.ML.Coherence.Scoring;
using Microsoft.ML.Coherence.Text;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Coherence;

/// <summary>
/// The fitted coherence-embedding stage: scores rows lazily through built-in ML.NET transforms and an
/// ONNX graph of the trained encoder, and exposes what training learned and measured.
/// </summary>
/// <remarks>
/// It saves with the rest of a pipeline through <c>mlContext.Model.Save</c>; the zip holds only
/// built-in ML.NET components, so it loads without this assembly and without libtorch. After
/// loading, the stage is a <c>TransformerChain&lt;ITransformer&gt;</c> that gives the same features;
/// the report, vocabulary and embeddings are available on the fitted object only. Output for a row
/// with no known word (empty, or only unknown words): a zero vector. Dispose it to free the ONNX session.
/// </remarks>
public sealed class CoherenceEmbeddingTransformer : ITransformer, IDisposable
{
    private readonly ITransformer _chain;
    private bool _disposed;

    private CoherenceEmbeddingTransformer(CoherenceEmbeddingModel model, ITransformer chain, string outputColumnName, string inputColumnName)
    {
        Model = model;
        _chain = chain;
        OutputColumnName = outputColumnName;
        InputColumnName = inputColumnName;
    }

    internal static CoherenceEmbeddingTransformer Create(IHostEnvironment environment, CoherenceEmbeddingModel model, string outputColumnName,
        string inputColumnName, DataViewSchema? inputSchema, int? scoringGpuDeviceId, bool fallbackToCpu)
    {
        var chain = ScoringChainBuilder.Build(environment, outputColumnName, inputColumnName, model.Vocabulary.Tokens, model.Weights,
            model.Report.Options.Pooling, inputSchema, scoringGpuDeviceId, fallbackToCpu,
            model.Report.Options.SplitPunctuation);
        return new CoherenceEmbeddingTransformer(model, chain, outputColumnName, inputColumnName);
    }

    /// <summary>Creates the scoring stage from an already trained model, e.g. to reuse embeddings pre-trained on a large corpus.</summary>
    /// <remarks>
    /// It scores on the CPU unless the model's options set <see cref="CoherenceEmbeddingOptions.ScoringGpuDeviceId"/>;
    /// <paramref name="mlContext"/>'s GPU settings do not apply (its <c>FallbackToCpu</c> does, to that GPU).
    /// </remarks>
    /// <param name="mlContext">The ML.NET context: its log receives the scoring components' messages.</param>
    /// <param name="model">The trained model.</param>
    /// <param name="outputColumnName">Output column: known-size vector of <see cref="float"/>.</param>
    /// <param name="inputColumnName">Input text column; defaults to <paramref name="outputColumnName"/>.</param>
    public static CoherenceEmbeddingTransformer FromModel(MLContext mlContext, CoherenceEmbeddingModel model, string outputColumnName, string? inputColumnName = null)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(model);
        int? gpu = ScoringDevice.Resolve(model.Report.Options.ScoringGpuDeviceId, mlContext.FallbackToCpu, message => ComponentContext.Warn(mlContext, message));
        return Create(mlContext, model, outputColumnName, inputColumnName ?? outputColumnName, null, gpu, mlContext.FallbackToCpu);
    }

    /// <summary>
    /// This fitted stage as an estimator whose <c>Fit</c> returns it unchanged, to put a stage trained once
    /// (for example on a large unlabelled corpus) at the head of other pipelines without training it again.
    /// </summary>
    public IEstimator<CoherenceEmbeddingTransformer> AsEstimator() => new FittedEstimator(this);

    private sealed class FittedEstimator(CoherenceEmbeddingTransformer stage) : IEstimator<CoherenceEmbeddingTransformer>
    {
        public CoherenceEmbeddingTransformer Fit(IDataView input)
        {
            ArgumentNullException.ThrowIfNull(input);
            CoherenceEmbeddingEstimator.ValidateInput(input.Schema, stage.InputColumnName);
            return stage;
        }

        public SchemaShape GetOutputSchema(SchemaShape inputSchema) =>
            CoherenceEmbeddingEstimator.OutputSchemaOf(inputSchema, stage.InputColumnName, stage.OutputColumnName);
    }

    /// <summary>
    /// This stage as an <see cref="Microsoft.Extensions.AI.IEmbeddingGenerator{TInput, TEmbedding}"/> of strings, the .NET
    /// interface for embedding models: the same vectors as <see cref="Transform"/>, for search and retrieval code outside a pipeline.
    /// </summary>
    /// <remarks>The generator scores through this transformer: keep it undisposed while the generator is used. For a model
    /// loaded with <c>mlContext.Model.Load</c>, use <see cref="CoherenceEmbeddingGenerator.Create"/>.</remarks>
    public CoherenceEmbeddingGenerator AsEmbeddingGenerator()
    {
        ThrowIfDisposed();
        return CoherenceEmbeddingGenerator.Create(this, OutputColumnName, InputColumnName, CoherenceEmbeddingGenerator.DefaultModelId);
    }

    /// <summary>The trained model: vocabulary, statistical field, embeddings and training report.</summary>
    public CoherenceEmbeddingModel Model { get; }

    /// <summary>The training report (loss history, perplexity, coherence, cost, options used).</summary>
    public CoherenceTrainingReport Report => Model.Report;

    /// <summary>The trained vocabulary; id 0 is the unknown token.</summary>
    public Vocabulary Vocabulary => Model.Vocabulary;

    /// <summary>The output column.</summary>
    public string OutputColumnName { get; }

    /// <summary>The input text column.</summary>
    public string InputColumnName { get; }

    /// <summary>A copy of the embedding matrix, row-major [vocabulary size, d].</summary>
    public float[] GetEmbeddingMatrix() => Model.GetEmbeddingMatrix();

    /// <inheritdoc />
    public bool IsRowToRowMapper => _chain.IsRowToRowMapper;

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ThrowIfDisposed();
        CoherenceEmbeddingEstimator.ValidateInput(inputSchema, InputColumnName);
        ScoringChainBuilder.ValidateInputSchema(inputSchema, InputColumnName);
        return _chain.GetOutputSchema(inputSchema);
    }

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        ThrowIfDisposed();
        CoherenceEmbeddingEstimator.ValidateInput(inputSchema, InputColumnName);
        return _chain.GetRowToRowMapper(inputSchema);
    }

    /// <inheritdoc />
    public IDataView Transform(IDataView input)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(input);
        CoherenceEmbeddingEstimator.ValidateInput(input.Schema, InputColumnName);
        ScoringChainBuilder.ValidateInputSchema(input.Schema, InputColumnName);
        return _chain.Transform(input);
    }

    /// <summary>Saves the built-in components this stage is made of (called by <c>mlContext.Model.Save</c>).</summary>
    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        ThrowIfDisposed();
        ((ICanSaveModel)_chain).Save(ctx);
    }

    /// <summary>Writes the embeddings in word2vec text format.</summary>
    /// <param name="path">The file to write (atomically).</param>
    public void ExportWord2Vec(string path) => Model.ExportWord2Vec(path);

    /// <summary>Writes the embeddings as safetensors (tensor "embeddings", F32 [V, d]).</summary>
    /// <param name="path">The file to write (atomically).</param>
    public void ExportSafetensors(string path) => Model.ExportSafetensors(path);

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        (_chain as IDisposable)?.Dispose();
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
}
