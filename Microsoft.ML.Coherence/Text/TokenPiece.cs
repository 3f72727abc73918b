using Microsoft.ML.Data;

namespace Microsoft.ML.Coherence.Text;

/// <summary>
/// The tokens of one document, or of one piece of a long document (<see cref="CoherenceTokenizer.TokenizeToPieces"/> cuts
/// rows longer than a limit at white space, so that ML.NET's text transforms never hold a whole long row): slices of the
/// tokenizer's buffer, valid until the next piece. <see cref="ContinuesDocument"/> marks a piece that belongs to the
/// document before it.
/// </summary>
internal readonly record struct TokenPiece(VBuffer<ReadOnlyMemory<char>> Tokens, bool ContinuesDocument)
{
    /// <summary>A whole document given as strings.</summary>
    public static TokenPiece Document(string[] tokens) => new(CoherenceTokenizer.AsSlices(tokens), ContinuesDocument: false);

    /// <summary>Each piece with the index of its document (0-based), counting the pieces that start one.</summary>
    public static IEnumerable<(int Document, TokenPiece Piece)> WithDocumentIndex(IEnumerable<TokenPiece> pieces)
    {
        int document = -1;
        foreach (var piece in pieces)
        {
            if (!piece.ContinuesDocument || document < 0)
                document++;
            yield return (document, piece);
        }
    }
}
