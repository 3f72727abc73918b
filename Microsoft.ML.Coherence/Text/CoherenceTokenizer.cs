using Microsoft.ML.Coherence.Internal;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Text;

namespace Microsoft.ML.Coherence.Text;

/// <summary>
/// Splits text into word tokens exactly as ML.NET's own transforms do:
/// <c>NormalizeText</c> (with <see cref="CaseMode"/>, <see cref="KeepDiacritics"/>,
/// <see cref="KeepPunctuations"/>, <see cref="KeepNumbers"/>) then <c>TokenizeIntoWords</c>
/// (splitting on white space and control characters, and by default on punctuation: <see cref="Separators"/>).
/// </summary>
/// <remarks>
/// Training and scoring must tokenize identically, so both build their transforms with
/// <see cref="CreateEstimator"/>. NormalizeText uses ML.NET's defaults. TokenizeIntoWords splits on every
/// white-space and control character (so no token holds a tab or a newline) and, with
/// <see cref="SplitPunctuation"/> (the default), on punctuation too, so "world!" and "world" are one word.
/// Text is streamed row by row through a cursor and never held in memory as a whole.
/// </remarks>
public sealed class CoherenceTokenizer
{
    /// <summary>Case mode of <c>NormalizeText</c>: lower case (ML.NET's default).</summary>
    public const TextNormalizingEstimator.CaseMode CaseMode = TextPipelineSettings.CaseMode;

    /// <summary>Whether <c>NormalizeText</c> keeps diacritical marks: no, "café" becomes "cafe" (ML.NET's default).</summary>
    public const bool KeepDiacritics = TextPipelineSettings.KeepDiacritics;

    /// <summary>Whether <c>NormalizeText</c> keeps punctuation marks: yes (ML.NET's default).</summary>
    public const bool KeepPunctuations = TextPipelineSettings.KeepPunctuations;

    /// <summary>Whether <c>NormalizeText</c> keeps numbers: yes (ML.NET's default).</summary>
    public const bool KeepNumbers = TextPipelineSettings.KeepNumbers;

    /// <summary>The space, ML.NET's default separator for <c>TokenizeIntoWords</c>; one of <see cref="Separators"/>.</summary>
    public const char Separator = TextPipelineSettings.WordSeparator;

    // Name of the token column added while tokenizing a caller's IDataView; unlikely to collide.
    private const string TokenColumn = "__CoherenceTokens__";
    private const string DocumentColumn = nameof(DocumentRow.Text);

    private readonly MLContext _mlContext;

    /// <summary>Creates a tokenizer that builds its transforms in <paramref name="mlContext"/>.</summary>
    /// <param name="mlContext">The ML.NET context.</param>
    /// <param name="splitPunctuation">Whether punctuation separates words (and is dropped); see <see cref="CoherenceEmbeddingOptions.SplitPunctuation"/>.</param>
    public CoherenceTokenizer(MLContext mlContext, bool splitPunctuation = CoherenceEmbeddingOptions.Defaults.SplitPunctuation)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        _mlContext = mlContext;
        SplitPunctuation = splitPunctuation;
    }

    /// <summary>Whether punctuation separates words.</summary>
    public bool SplitPunctuation { get; }

    /// <summary>The characters <c>TokenizeIntoWords</c> splits on with these settings.</summary>
    public IReadOnlyList<char> Separators => TextPipelineSettings.Separators(SplitPunctuation);

    /// <summary>
    /// The transforms that turn text into tokens: <c>NormalizeText</c> then <c>TokenizeIntoWords</c>,
    /// with this class's settings. Scoring pipelines append this so that they tokenize exactly as training did.
    /// </summary>
    /// <param name="outputColumnName">Name of the output column, a variable-length vector of <see cref="string"/> (text).</param>
    /// <param name="inputColumnName">Name of the input column, of type <see cref="string"/> (text); defaults to <paramref name="outputColumnName"/>.</param>
    /// <returns>The estimator chain.</returns>
    public IEstimator<ITransformer> CreateEstimator(string outputColumnName, string? inputColumnName = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(outputColumnName);
        inputColumnName ??= outputColumnName;
        // The scoring chain builds its text transforms from the same method: training and scoring never disagree.
        return TextPipeline.CreateTextEstimator(_mlContext, outputColumnName, inputColumnName, SplitPunctuation);
    }

    /// <summary>Streams the tokens of each row of <paramref name="data"/>, in row order.</summary>
    /// <param name="data">The rows to read.</param>
    /// <param name="textColumn">Name of the text column, of type <see cref="string"/> (text).</param>
    /// <returns>One token array per row (empty for an empty row); evaluated lazily, one row at a time.</returns>
    /// <exception cref="ArgumentException">The column is missing or is not text.</exception>
    public IEnumerable<string[]> Tokenize(IDataView data, string textColumn)
    {
        CheckTextColumn(data, textColumn);
        return TokenizeRows(data, textColumn);
    }

    /// <summary>As <see cref="Tokenize(IDataView, string)"/>, as slices of one reused buffer (see <see cref="TokenSlices"/>).</summary>
    internal IEnumerable<VBuffer<ReadOnlyMemory<char>>> TokenizeToSlices(IDataView data, string textColumn)
    {
        CheckTextColumn(data, textColumn);
        return TokenSlices(data, textColumn);
    }

    /// <summary>One row's tokens in the slice form <see cref="TokenizeToSlices"/> hands out (for callers that hold strings).</summary>
    internal static VBuffer<ReadOnlyMemory<char>> AsSlices(string[] tokens) =>
        new(tokens.Length, Array.ConvertAll(tokens, static token => token.AsMemory()));

    private static void CheckTextColumn(IDataView data, string textColumn)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentException.ThrowIfNullOrEmpty(textColumn);
        var column = data.Schema.GetColumnOrNull(textColumn);
        if (column is null)
        {
            CoherenceThrow.ColumnNotFound(nameof(textColumn), textColumn);
        }
        if (column.Value.Type is not TextDataViewType)
        {
            CoherenceThrow.SchemaMismatch(nameof(textColumn), textColumn, "String", column.Value.Type.ToString() ?? "");
        }
    }

    /// <summary>Streams the tokens of each document, in order.</summary>
    /// <param name="documents">The documents; none may be <see langword="null"/> (use "" for an empty one).</param>
    /// <returns>One token array per document (empty for an empty document); evaluated lazily.</returns>
    /// <exception cref="ArgumentException">A document is <see langword="null"/> (raised when that row is reached).</exception>
    public IEnumerable<string[]> Tokenize(IEnumerable<string?> documents)
    {
        ArgumentNullException.ThrowIfNull(documents);
        // LoadFromEnumerable streams: the cursor enumerates the source one row at a time (possibly on
        // ML.NET's worker threads, which would wrap an exception thrown there), so null rows are flagged
        // in a column and reported here, on the caller's thread.
        var data = _mlContext.Data.LoadFromEnumerable(
            documents.Select(static document => new DocumentRow { Text = document ?? "", IsNull = document is null }));
        return TokenizeRows(data, DocumentColumn, nameof(DocumentRow.IsNull));
    }

    private IEnumerable<string[]> TokenizeRows(IDataView data, string textColumn, string? nullFlagColumn = null)
    {
        foreach (var tokens in TokenSlices(data, textColumn, nullFlagColumn))
        {
            var values = tokens.GetValues();
            var row = new string[values.Length];
            for (var k = 0; k < values.Length; k++)
            {
                row[k] = values[k].ToString();
            }
            yield return row;
        }
    }

    /// <summary>
    /// Streams each row's tokens as slices of the normalised text, without making a string per token. The buffer is the
    /// cursor's own and is overwritten by the next row: read it before moving on, never keep it.
    /// </summary>
    internal IEnumerable<VBuffer<ReadOnlyMemory<char>>> TokenSlices(IDataView data, string textColumn, string? nullFlagColumn = null)
    {
        var transformed = CreateEstimator(TokenColumn, textColumn).Fit(data).Transform(data);
        var tokenColumn = transformed.Schema[TokenColumn];
        var columns = nullFlagColumn is null ? [tokenColumn] : new[] { tokenColumn, transformed.Schema[nullFlagColumn] };
        using var cursor = transformed.GetRowCursor(columns);
        var getter = cursor.GetGetter<VBuffer<ReadOnlyMemory<char>>>(tokenColumn);
        var isNullGetter = nullFlagColumn is null ? null : cursor.GetGetter<bool>(columns[1]);
        var tokens = default(VBuffer<ReadOnlyMemory<char>>);
        var isNull = false;
        while (cursor.MoveNext())
        {
            isNullGetter?.Invoke(ref isNull);
            if (isNull)
            {
                CoherenceThrow.Argument("documents",
                    $"Row {cursor.Position} of the corpus is null; every row must be a string (use \"\" for an empty document).");
            }
            getter(ref tokens);
            // TokenizeIntoWords writes dense vectors; a sparse one would hide its implicit (empty) tokens from GetValues.
            if (!tokens.IsDense)
            {
                tokens = new VBuffer<ReadOnlyMemory<char>>(tokens.Length, tokens.DenseValues().ToArray());
            }
            yield return tokens;
        }
    }

    private sealed class DocumentRow
    {
        public string Text { get; set; } = "";

        public bool IsNull { get; set; }
    }
}
