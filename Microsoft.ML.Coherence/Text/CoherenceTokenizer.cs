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

    /// <summary>The most characters of a row ML.NET's text transforms read at once in training: longer rows are cut.</summary>
    internal const int MaxPieceCharacters = 1 << 14;

    /// <summary>
    /// As <see cref="Tokenize(IDataView, string)"/>, as slices of one reused buffer (see <see cref="TokenSlices"/>), with rows
    /// longer than <paramref name="maxPieceCharacters"/> cut into pieces after a space, tab or line break. Those characters
    /// always separate words and are dropped, and normalisation works character by character, so the pieces give the
    /// row's tokens exactly, while ML.NET's transforms (which hold a normalised copy of a row and a slice a token, about 15
    /// bytes a character) never hold more than a piece. A run longer than the limit without such a character stays whole.
    /// </summary>
    internal IEnumerable<TokenPiece> TokenizeToPieces(IDataView data, string textColumn, int maxPieceCharacters = MaxPieceCharacters)
    {
        CheckTextColumn(data, textColumn);
        var pieces = _mlContext.Data.LoadFromEnumerable(Pieces(data, textColumn, maxPieceCharacters));
        return TokenSlices(pieces, nameof(PieceRow.Text), nameof(PieceRow.Continues))
            .Select(static piece => new TokenPiece(piece.Tokens, piece.Flag));
    }

    // The rows of a text column as pieces of at most maxCharacters (cut after white space), each marked when it continues its row.
    private static IEnumerable<PieceRow> Pieces(IDataView data, string textColumn, int maxCharacters)
    {
        var column = data.Schema[textColumn];
        using var cursor = data.GetRowCursor([column]);
        var getter = cursor.GetGetter<ReadOnlyMemory<char>>(column);
        var text = default(ReadOnlyMemory<char>);
        while (cursor.MoveNext())
        {
            getter(ref text);
            bool continues = false;
            var rest = text;
            while (rest.Length > maxCharacters && CutAfter(rest.Span, maxCharacters) is int cut and > 0 && cut < rest.Length)
            {
                yield return new PieceRow { Text = rest[..cut], Continues = continues };
                (rest, continues) = (rest[cut..], true);
            }
            yield return new PieceRow { Text = rest, Continues = continues };
        }
    }

    // Where to cut a long text: after the last space, tab or line break within the limit, else after the first one past it
    // (0 when there is none: the text stays whole).
    private static int CutAfter(ReadOnlySpan<char> text, int maxCharacters)
    {
        int last = text[..maxCharacters].LastIndexOfAny(' ', '\t', '\n');
        if (last >= 0)
            return last + 1;
        int next = text[maxCharacters..].IndexOfAny(' ', '\t', '\n');
        return next < 0 ? 0 : maxCharacters + next + 1;
    }


    /// <summary>One row's tokens in the slice form <see cref="TokenizeToPieces"/> hands out (for callers that hold strings).</summary>
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
        long row = 0;
        foreach (var (tokens, isNull) in TokenSlices(data, textColumn, nullFlagColumn))
        {
            if (isNull)
            {
                CoherenceThrow.Argument("documents",
                    $"Row {row} of the corpus is null; every row must be a string (use \"\" for an empty document).");
            }
            row++;
            var values = tokens.GetValues();
            var strings = new string[values.Length];
            for (var k = 0; k < values.Length; k++)
            {
                strings[k] = values[k].ToString();
            }
            yield return strings;
        }
    }

    /// <summary>
    /// Streams each row's tokens as slices of the normalised text, without making a string per token, with the row's value
    /// of the Boolean <paramref name="flagColumn"/> (false without one). The buffer is the cursor's own and is overwritten
    /// by the next row: read it before moving on, never keep it.
    /// </summary>
    internal IEnumerable<(VBuffer<ReadOnlyMemory<char>> Tokens, bool Flag)> TokenSlices(IDataView data, string textColumn, string? flagColumn = null)
    {
        var transformed = CreateEstimator(TokenColumn, textColumn).Fit(data).Transform(data);
        var tokenColumn = transformed.Schema[TokenColumn];
        var columns = flagColumn is null ? [tokenColumn] : new[] { tokenColumn, transformed.Schema[flagColumn] };
        using var cursor = transformed.GetRowCursor(columns);
        var getter = cursor.GetGetter<VBuffer<ReadOnlyMemory<char>>>(tokenColumn);
        var flagGetter = flagColumn is null ? null : cursor.GetGetter<bool>(columns[1]);
        var tokens = default(VBuffer<ReadOnlyMemory<char>>);
        var flag = false;
        while (cursor.MoveNext())
        {
            flagGetter?.Invoke(ref flag);
            getter(ref tokens);
            // TokenizeIntoWords writes dense vectors; a sparse one would hide its implicit (empty) tokens from GetValues.
            if (!tokens.IsDense)
            {
                tokens = new VBuffer<ReadOnlyMemory<char>>(tokens.Length, tokens.DenseValues().ToArray());
            }
            yield return (tokens, flag);
        }
    }

    private sealed class PieceRow
    {
        public ReadOnlyMemory<char> Text { get; set; }

        public bool Continues { get; set; }
    }

    private sealed class DocumentRow
    {
        public string Text { get; set; } = "";

        public bool IsNull { get; set; }
    }
}
