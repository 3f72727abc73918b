using System.Diagnostics.CodeAnalysis;
using Microsoft.ML.Coherence.Modules;
using Microsoft.ML.Coherence.Internal;
using Microsoft.ML.Coherence.Text;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Coherence.Scoring;

/// <summary>
/// Builds the scoring chain of built-in ML.NET transformers that a fitted coherence transformer
/// saves: NormalizeText -> TokenizeIntoWords (white space, control characters and, by default, punctuation) -> MapValueToKey
/// -> ApplyOnnxModel -> NormalizeLpNorm (unit L2 norm per row) -> DropColumns.
/// Every stage saves itself into an ML.NET model zip (the ONNX bytes included), so the saved model
/// loads and scores with Microsoft.ML and Microsoft.ML.OnnxTransformer alone.
/// </summary>
internal static class ScoringChainBuilder
{
    /// <summary>Intermediate column: the normalised word tokens, Vector&lt;String&gt;. Dropped at the end.</summary>
    public const string TokensColumnName = "__coherence_tokens__";

    /// <summary>Intermediate column: the token ids, Vector&lt;Key&lt;UInt32&gt;&gt;, also the ONNX input name. Dropped at the end.</summary>
    public const string IdsColumnName = "__coherence_ids__";

    /// <summary>The intermediate columns the chain adds and drops again.</summary>
    public static IReadOnlyList<string> IntermediateColumnNames { get; } = [TokensColumnName, IdsColumnName];

    /// <summary>
    /// Builds, saves and reloads the scoring chain that reads the text column <paramref name="inputColumn"/>
    /// (String) and writes <paramref name="outputColumn"/> (Vector&lt;Single, D&gt;, D = d for Mean, 2d for MeanMax).
    /// </summary>
    /// <param name="environment">The user's ML.NET context (or the environment behind its catalogs): the chain's components log there.</param>
    /// <param name="outputColumn">Name of the feature column written; may equal <paramref name="inputColumn"/> (it then replaces it).</param>
    /// <param name="inputColumn">Name of the text column read.</param>
    /// <param name="vocabularyTokens">Token of each id; index 0 is the unknown token (its text is not used), 1..V-1 are the normalised words.</param>
    /// <param name="weights">The trained encoder.</param>
    /// <param name="pooling">How token states are pooled.</param>
    /// <param name="inputSchema">When given, checked up front: <paramref name="inputColumn"/> must be text and no intermediate column may exist.</param>
    /// <param name="splitPunctuation">Whether the chain's tokeniser splits on punctuation; must be what training used.</param>
    /// <param name="gpuDeviceId">The GPU the ONNX stage scores on; null, the default, is the CPU whatever <paramref name="environment"/>'s GPU settings say.</param>
    /// <param name="fallbackToCpu">Whether the ONNX stage falls back to the CPU when <paramref name="gpuDeviceId"/> cannot be used.</param>
    /// <returns>The chain as loaded back from its saved form (a <c>TransformerChain&lt;ITransformer&gt;</c>); dispose it when done.</returns>
    /// <remarks>
    /// ApplyOnnxModel(Stream) copies the model to a temp file it never deletes, and ApplyOnnxModel(path)
    /// re-reads the path when saved. So: write our own temp .onnx, fit with its path, save the chain to
    /// memory, dispose it, delete the file, and load the chain back from memory. The loaded ONNX
    /// transformer keeps the model bytes in the chain, and cleans up after itself when disposed.
    /// The chain scores on the CPU unless <paramref name="gpuDeviceId"/> says otherwise: ML.NET runs the graph
    /// one row at a time, where a GPU does not pay, and the package ships the CPU ONNX Runtime. ML.NET's ONNX
    /// stage takes its device from the context it is fitted and loaded in, so the chain is built in a private
    /// context with exactly these settings, whose log is forwarded to <paramref name="environment"/>.
    /// </remarks>
    public static ITransformer Build(
        IHostEnvironment environment,
        string outputColumn,
        string inputColumn,
        IReadOnlyList<string> vocabularyTokens,
        CoherenceEncoderWeights weights,
        CoherencePooling pooling,
        DataViewSchema? inputSchema = null,
        int? gpuDeviceId = null,
        bool fallbackToCpu = false,
        bool splitPunctuation = CoherenceEmbeddingOptions.Defaults.SplitPunctuation)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentException.ThrowIfNullOrEmpty(outputColumn);
        ArgumentException.ThrowIfNullOrEmpty(inputColumn);
        ArgumentNullException.ThrowIfNull(vocabularyTokens);
        ArgumentNullException.ThrowIfNull(weights);
        weights.ThrowIfInvalid(nameof(weights));
        _ = OnnxEncoderWriter.FeatureLength(weights, pooling); // rejects an unknown pooling value up front
        ThrowIfIntermediate(outputColumn, nameof(outputColumn));
        ThrowIfIntermediate(inputColumn, nameof(inputColumn));
        ValidateVocabulary(vocabularyTokens, weights.VocabularySize);
        if (inputSchema is not null)
        {
            ValidateInputSchema(inputSchema, inputColumn);
        }

        var mlContext = ComponentContext.Create(environment, seed: 0, gpuDeviceId, fallbackToCpu);
        var fitData = TextColumnView.Load(mlContext, [], TextColumnView.Definition(inputColumn));
        var modelPath = Path.Combine(Path.GetTempPath(), $"coherence-{Guid.NewGuid():N}.onnx");
        using var saved = new MemoryStream();
        try
        {
            OnnxEncoderWriter.WriteFile(modelPath, weights, pooling, IdsColumnName, outputColumn);
            // Every stage here is fixed by its arguments (keyData is given), so fitting on no rows learns nothing.
            using var chain = Chain(mlContext, outputColumn, inputColumn, vocabularyTokens, modelPath, gpuDeviceId, fallbackToCpu, splitPunctuation)
                .Fit(fitData);
            mlContext.Model.Save(chain, fitData.Schema, saved);
        }
        finally
        {
            File.Delete(modelPath);
        }

        saved.Position = 0;
        return mlContext.Model.Load(saved, out _);
    }

    /// <summary>The chain's estimators: tokens, their ids, the ONNX graph at <paramref name="modelPath"/>, unit length, the intermediate columns dropped.</summary>
    private static EstimatorChain<Microsoft.ML.Transforms.ColumnSelectingTransformer> Chain(MLContext mlContext, string outputColumn, string inputColumn, IReadOnlyList<string> vocabularyTokens,
        string modelPath, int? gpuDeviceId, bool fallbackToCpu, bool splitPunctuation)
    {
        // MapValueToKey with keyData and ByOccurrence: key k is the k-th row, so key k = token id k;
        // words outside the vocabulary get the missing key 0 = the unknown id.
        var keyData = mlContext.Data.LoadFromEnumerable(vocabularyTokens.Skip(1).Select(token => new TokenRow { Token = token }));
        var ids = TextPipeline.CreateTextEstimator(mlContext, TokensColumnName, inputColumn, splitPunctuation)
            .Append(mlContext.Transforms.Conversion.MapValueToKey(IdsColumnName, TokensColumnName, keyData: keyData));
        // Typed as the interface so the chain nests as it always has: saved models keep their layout.
        IEstimator<ITransformer> encoded = ids.Append(mlContext.Transforms.ApplyOnnxModel([outputColumn], [IdsColumnName], modelPath, gpuDeviceId, fallbackToCpu));
        // Unit L2 norm per row, as FeaturizeText's rows: next to them, linear trainers without a normaliser (SDCA) converge
        // as fast as on FeaturizeText alone (docs/results/output-scaling.md); a row with no known word stays zero.
        // It is also what turns the graph's Mean output, a sum, into the mean's direction (OnnxEncoderWriter).
        return encoded.Append(mlContext.Transforms.NormalizeLpNorm(outputColumn))
            .Append(mlContext.Transforms.DropColumns([TokensColumnName, IdsColumnName]));
    }

    /// <summary>
    /// Checks a schema the chain will be applied to: <paramref name="inputColumn"/> exists and is text, and no
    /// column has an intermediate name (the chain would overwrite it, then drop it).
    /// </summary>
    public static void ValidateInputSchema(DataViewSchema inputSchema, string inputColumn)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var column = inputSchema.GetColumnOrNull(inputColumn)
            ?? throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Could not find input column '{inputColumn}'.");
        if (column.Type is not TextDataViewType)
        {
            throw new ArgumentOutOfRangeException(
                nameof(inputSchema),
                $"Schema mismatch for input column '{inputColumn}': expected String, got {column.Type}.");
        }

        foreach (var name in IntermediateColumnNames)
        {
            if (inputSchema.GetColumnOrNull(name) is not null)
            {
                throw new ArgumentException(
                    $"The input already has a column named '{name}', which the coherence scoring chain uses internally; rename that column.",
                    nameof(inputSchema));
            }
        }
    }

    public static void ThrowIfIntermediate(string column, string paramName)
    {
        if (IntermediateColumnNames.Contains(column))
        {
            throw new ArgumentException($"Column name '{column}' is reserved for the coherence scoring chain; choose another name.", paramName);
        }
    }

    private static void ValidateVocabulary(IReadOnlyList<string> tokens, int vocabularySize)
    {
        if (tokens.Count != vocabularySize)
        {
            ThrowVocabulary($"has {tokens.Count} tokens but the encoder has {vocabularySize} rows; they must match (index 0 is the unknown token).");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 1; i < tokens.Count; i++)
        {
            var token = tokens[i];
            if (string.IsNullOrEmpty(token))
            {
                ThrowVocabulary($"token {i} is null or empty; only index 0 (unknown) may be a placeholder.");
            }

            // A repeated token would shift every later key by one and silently misalign the ids.
            if (!seen.Add(token))
            {
                ThrowVocabulary($"token {i} ('{token}') appears twice; tokens 1..{tokens.Count - 1} must be distinct.");
            }
        }
    }

    [DoesNotReturn]
    private static void ThrowVocabulary(string message) =>
        throw new ArgumentException("The vocabulary " + message, "vocabularyTokens");

    private sealed class TokenRow
    {
        public string Token { get; set; } = "";
    }
}
