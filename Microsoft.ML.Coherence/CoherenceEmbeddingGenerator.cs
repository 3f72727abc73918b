using Microsoft.Extensions.AI;
using Microsoft.ML.Coherence.Internal;
using Microsoft.ML.Data;

namespace Microsoft.ML.Coherence;

/// <summary>
/// A fitted text featurizer as an <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> of strings: the .NET interface for
/// embedding models (Microsoft.Extensions.AI), so the stage's vectors reach code written for any embedding model (semantic
/// search, vector stores, retrieval) outside an ML.NET pipeline.
/// </summary>
/// <remarks>
/// <para>Each call scores its strings through the same transformer as <c>Transform</c>, so the vectors are identical to the
/// pipeline's. Get one from a fitted stage with <see cref="CoherenceEmbeddingTransformer.AsEmbeddingGenerator"/>, or from a
/// model loaded with <c>mlContext.Model.Load</c> (built-in transforms only) with <see cref="Create"/>.</para>
/// <para>Calls may run at once from several threads. A string with no known word (empty, or only unknown words) gets a zero
/// vector, whose cosine similarity is undefined. <see cref="GeneratedEmbeddings{TEmbedding}.Usage"/> is null: the model runs
/// in the process and counts nothing. Disposing the generator does not dispose the transformer it scores with.</para>
/// </remarks>
public sealed class CoherenceEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    /// <summary>The provider name in <see cref="Metadata"/>.</summary>
    public const string ProviderName = "Microsoft.ML.Coherence";

    /// <summary>The model id of a generator made from a fitted stage, and the default of <see cref="Create"/>.</summary>
    public const string DefaultModelId = "coherence-embeddings";

    // Only to wrap the caller's strings in a data view; the transformer carries its own components.
    private readonly MLContext _data = new(seed: 0);
    private readonly ITransformer _model;
    private readonly string _inputColumnName;
    private readonly string _outputColumnName;
    private readonly SchemaDefinition _inputDefinition;

    private CoherenceEmbeddingGenerator(ITransformer model, string outputColumnName, string inputColumnName, string modelId)
    {
        _model = model;
        _outputColumnName = outputColumnName;
        _inputColumnName = inputColumnName;
        _inputDefinition = TextColumnView.Definition(inputColumnName);
        Dimension = OutputDimension(model, TextColumnView.Load(_data, [], _inputDefinition).Schema, outputColumnName, inputColumnName);
        Metadata = new EmbeddingGeneratorMetadata(ProviderName, providerUri: null, defaultModelId: modelId, defaultModelDimensions: Dimension);
    }

    /// <summary>
    /// Wraps a fitted or loaded transformer that reads a text column and writes a known-size vector of <see cref="float"/>,
    /// such as a pipeline saved with this stage and loaded with <c>mlContext.Model.Load</c>.
    /// </summary>
    /// <param name="model">The transformer: a fitted pipeline, or the model <c>mlContext.Model.Load</c> returned. It is not disposed with the generator.</param>
    /// <param name="outputColumnName">The vector column <paramref name="model"/> writes (Vector&lt;Single&gt; of known size).</param>
    /// <param name="inputColumnName">The text column <paramref name="model"/> reads (String); defaults to <paramref name="outputColumnName"/>.</param>
    /// <param name="modelId">The model id reported in <see cref="Metadata"/> and on every embedding; defaults to <see cref="DefaultModelId"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">The transformer needs other input columns, or does not write <paramref name="outputColumnName"/> as a known-size float vector.</exception>
    public static CoherenceEmbeddingGenerator Create(ITransformer model, string outputColumnName, string? inputColumnName = null, string? modelId = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(outputColumnName);
        return new CoherenceEmbeddingGenerator(model, outputColumnName, inputColumnName ?? outputColumnName, modelId ?? DefaultModelId);
    }

    /// <summary>The length of every vector this generator returns.</summary>
    public int Dimension { get; }

    /// <summary>Provider <see cref="ProviderName"/>, the model id, and <see cref="Dimension"/>.</summary>
    public EmbeddingGeneratorMetadata Metadata { get; }

    /// <summary>Embeds <paramref name="values"/>, one vector per string in the same order.</summary>
    /// <param name="values">The strings; none may be null (an empty string gets a zero vector).</param>
    /// <param name="options">Optional; <see cref="EmbeddingGenerationOptions.Dimensions"/>, when set, must equal <see cref="Dimension"/>.</param>
    /// <param name="cancellationToken">Checked before each string is scored.</param>
    /// <exception cref="ArgumentNullException"><paramref name="values"/> is null, or holds a null string.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="options"/> asks for another dimension.</exception>
    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (options?.Dimensions is { } asked && asked != Dimension)
            throw new ArgumentOutOfRangeException(nameof(options), asked,
                $"EmbeddingGenerationOptions.Dimensions is {asked}, but this model's vectors have {Dimension} dimensions: leave it null or set it to {Dimension}.");
        var rows = new List<string>();
        foreach (string value in values)
        {
            if (value is null)
                throw new ArgumentNullException(nameof(values), $"The string at index {rows.Count} is null: pass an empty string for a row with no text (it gets a zero vector).");
            rows.Add(value);
        }
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Embed(rows, cancellationToken));
    }

    private GeneratedEmbeddings<Embedding<float>> Embed(List<string> rows, CancellationToken cancellationToken)
    {
        var result = new GeneratedEmbeddings<Embedding<float>>(rows.Count);
        if (rows.Count == 0)
            return result;
        IDataView input;
        lock (_data) // the context's random stream, drawn from when a data view registers, is not thread-safe
            input = TextColumnView.Load(_data, rows, _inputDefinition);
        var scored = _model.Transform(input);
        var column = scored.Schema[_outputColumnName];
        using var cursor = scored.GetRowCursor([column]);
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        VBuffer<float> buffer = default;
        var createdAt = DateTimeOffset.UtcNow;
        while (cursor.MoveNext())
        {
            cancellationToken.ThrowIfCancellationRequested();
            getter(ref buffer);
            var vector = new float[Dimension];
            buffer.CopyTo(vector);
            result.Add(new Embedding<float>(vector) { ModelId = Metadata.DefaultModelId, CreatedAt = createdAt });
        }
        if (result.Count != rows.Count)
            throw new InvalidOperationException($"The transformer returned {result.Count} rows for {rows.Count} strings; a generator needs a row-to-row transformer (no filter).");
        return result;
    }

    /// <summary>The generator itself, or its <see cref="Metadata"/>, when asked for that type without a key; otherwise null.</summary>
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
            return null;
        if (serviceType == typeof(EmbeddingGeneratorMetadata))
            return Metadata;
        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <summary>Nothing to release: the transformer belongs to the caller.</summary>
    public void Dispose()
    {
    }

    private static int OutputDimension(ITransformer model, DataViewSchema input, string outputColumnName, string inputColumnName)
    {
        DataViewSchema output;
        try
        {
            output = model.GetOutputSchema(input);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw new ArgumentOutOfRangeException(nameof(model),
                $"The transformer cannot read a data view with only the text column '{inputColumnName}': {e.Message} " +
                "Pass the text column the transformer was fitted on as inputColumnName.");
        }
        if (output.GetColumnOrNull(outputColumnName) is not { } column)
            throw new ArgumentOutOfRangeException(nameof(outputColumnName), outputColumnName,
                $"Could not find output column '{outputColumnName}': the transformer writes {string.Join(", ", output.Select(c => $"'{c.Name}'"))}.");
        if (column.Type is not VectorDataViewType { ItemType: NumberDataViewType { RawType: var raw } } vector || raw != typeof(float) || !vector.IsKnownSize)
            throw new ArgumentOutOfRangeException(nameof(outputColumnName), outputColumnName,
                $"Schema mismatch for output column '{outputColumnName}': expected known-size vector of Single, got {column.Type}.");
        return vector.Size;
    }
}
