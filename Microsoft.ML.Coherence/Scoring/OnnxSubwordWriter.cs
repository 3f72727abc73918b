using DataType = Onnx.TensorProto.Types.DataType;
using Microsoft.ML.Coherence.Modules;
using static Microsoft.ML.Coherence.Scoring.OnnxGraphBuilder;

namespace Microsoft.ML.Coherence.Scoring;

/// <summary>
/// The static encoder's token states with subwords, as ONNX: a word in the vocabulary takes its row of E (already the
/// mean of its own row and its n-gram rows, as training composed it); a word outside it takes the mean of its n-gram
/// rows, hashed in the graph exactly as <see cref="Text.CharNgramHasher"/> does.
/// </summary>
/// <remarks>
/// <para>The character input is what ML.NET's <c>TokenizeIntoCharactersAsKeys</c> makes of the token column: UINT16 key
/// values (the UTF-16 code units), the row framed by 0x02 … 0x03 and the tokens separated by 0x1F. Those three codes are
/// the word boundaries; each becomes the boundary mark, so word j is ‹word› between boundaries j and j + 1.</para>
/// <para>For every length n and start i the graph computes the window's polynomial hash (one multiply-add-mod per
/// length, over the codes shifted by k), keeps the windows that cross no boundary inside and are not all marks, sums their
/// n-gram rows per start position, and turns those into per-word sums by a prefix sum (in double) read at the boundaries:
/// the windows of word j start at positions [b_j, b_{j+1}).</para>
/// </remarks>
internal static class OnnxSubwordWriter
{
    private const long StartOfText = 0x02;
    private const long EndOfText = 0x03;
    private const long UnitSeparator = 0x1F;

    /// <summary>
    /// Returns the states [1, n, d] and the pooled positions [1, n] (bool) for <paramref name="ids"/> [1, n] int64, reading
    /// <paramref name="charsInputName"/>; <paramref name="embeddings"/> names the [V, d] initializer whose row 0 is zero.
    /// </summary>
    public static (string States, string Known) Write(OnnxGraphBuilder g, CoherenceEncoderWeights w, string ids, string embeddings, string charsInputName)
    {
        int d = w.Dimension;
        var hasher = w.SubwordHasher();
        int longest = hasher.MaxLength;
        var axis0 = g.Vector("subword_axis0", 0);
        var axis1 = g.Vector("subword_axis1", 1);
        var zeroAxis = g.Int64s("subword_cumsum_axis", [0]);

        var codes = g.Node("Squeeze", [g.Node("Cast", [charsInputName], Int("to", (long)DataType.Int64)), axis0]); // [m]
        var isBoundary = g.Node("Or", [
            g.Node("Or", [g.Node("Equal", [codes, g.Int64s("subword_stx", [StartOfText])]), g.Node("Equal", [codes, g.Int64s("subword_etx", [EndOfText])])]),
            g.Node("Equal", [codes, g.Int64s("subword_us", [UnitSeparator])])]);
        var boundaryCount = g.Node("Cast", [isBoundary], Int("to", (long)DataType.Int64));
        var code = g.Node("Where", [isBoundary, g.Int64s("subword_mark", [Text.CharNgramHasher.BoundaryCode]), codes]);
        var length = g.Node("Shape", [codes]);                                                              // [1] = m
        var lengthScalar = g.Node("Squeeze", [length, axis0]);
        var tailPad = g.Vector("subword_tail_pad", 0, longest);
        var paddedCode = g.Node("Pad", [code, tailPad]);                                                    // [m + L]
        var boundariesUpTo = g.Node("CumSum", [boundaryCount, zeroAxis]);                                   // [m], inclusive
        var paddedBoundariesUpTo = g.Node("Pad", [boundariesUpTo, tailPad]);
        var positions = g.Node("Range", [g.Int64s("subword_zero", [0]), lengthScalar, g.Int64s("subword_one", [1])]);

        var shifts = new Dictionary<int, (string From, string To)>();
        string Shifted(string values, int k)
        {
            if (!shifts.TryGetValue(k, out var range))
                shifts[k] = range = (g.Vector($"subword_from_{k}", k), g.Node("Add", [length, g.Vector($"subword_to_{k}", k)]));
            return g.Node("Slice", [values, range.From, range.To, axis0]);
        }

        var multiplier = g.Int64s("subword_multiplier", [Text.CharNgramHasher.Multiplier]);
        var modulus = g.Int64s("subword_modulus", [Text.CharNgramHasher.Modulus]);
        var buckets = g.Int64s("subword_buckets", [hasher.Buckets]);
        var table = g.Floats("subword_vectors", w.SubwordVectors, hasher.Buckets, d);
        var zero = g.Int64s("subword_zero_count", [0]);

        string hash = code; // windows of length 1: the code itself (< M)
        string? perStart = null, countPerStart = null;
        for (int n = 2; n <= longest; n++)
        {
            hash = g.Node("Mod", [g.Node("Add", [g.Node("Mul", [hash, multiplier]), Shifted(paddedCode, n - 1)]), modulus]);
            if (n < hasher.MinLength)
                continue;
            var bucket = g.Node("Mod", [g.Node("Mod", [g.Node("Add", [g.Node("Mul", [hash, multiplier]), g.Int64s($"subword_n_{n}", [n])]), modulus]), buckets]);
            // No boundary strictly inside [i, i + n - 1]; fewer than n boundaries in it; the window ends inside the row.
            var inside = g.Node("Sub", [Shifted(paddedBoundariesUpTo, n - 2), boundariesUpTo]);
            var inWindow = g.Node("Add", [g.Node("Sub", [Shifted(paddedBoundariesUpTo, n - 1), boundariesUpTo]), boundaryCount]);
            var inRow = g.Node("Less", [positions, g.Node("Sub", [lengthScalar, g.Int64s($"subword_last_{n}", [n - 1])])]);
            var valid = g.Node("And", [g.Node("And", [g.Node("Equal", [inside, zero]), g.Node("Less", [inWindow, g.Int64s($"subword_len_{n}", [n])])]), inRow]);
            var validFloat = g.Node("Cast", [valid], Int("to", (long)DataType.Float));                       // [m]
            var rows = g.Node("Mul", [g.Node("Gather", [table, bucket], Int("axis", 0)), g.Node("Unsqueeze", [validFloat, axis1])]); // [m, d]
            perStart = perStart is null ? rows : g.Node("Add", [perStart, rows]);
            countPerStart = countPerStart is null ? validFloat : g.Node("Add", [countPerStart, validFloat]);
        }

        // Prefix sums with a leading zero: the sum over starts [a, b) is P[b] - P[a].
        var zeroRow = g.Node("Cast", [g.Floats("subword_zero_row", new float[d], 1, d)], Int("to", (long)DataType.Double));
        var zeroCount = g.Node("Cast", [g.Floats("subword_zero_scalar", [0f], 1)], Int("to", (long)DataType.Double));
        var prefix = g.Node("Concat", [zeroRow, g.Node("CumSum", [g.Node("Cast", [perStart!], Int("to", (long)DataType.Double)), zeroAxis])], Int("axis", 0));
        var countPrefix = g.Node("Concat", [zeroCount, g.Node("CumSum", [g.Node("Cast", [countPerStart!], Int("to", (long)DataType.Double)), zeroAxis])], Int("axis", 0));

        var boundaryPositions = g.Node("Squeeze", [g.Node("NonZero", [isBoundary]), axis0]);                  // [words + 1]
        var words = g.Node("Shape", [ids], Int("start", 1), Int("end", 2));                                  // [1] = n
        var starts = g.Node("Slice", [boundaryPositions, g.Vector("subword_first_start", 0), words, axis0]);
        var ends = g.Node("Slice", [boundaryPositions, g.Vector("subword_first_end", 1), g.Node("Add", [words, g.Vector("subword_one_more", 1)]), axis0]);
        string PerWord(string values) => g.Node("Sub", [g.Node("Gather", [values, ends], Int("axis", 0)), g.Node("Gather", [values, starts], Int("axis", 0))]);
        var sums = g.Node("Cast", [PerWord(prefix)], Int("to", (long)DataType.Float));                        // [n, d]
        var counts = g.Node("Cast", [PerWord(countPrefix)], Int("to", (long)DataType.Float));                 // [n]
        var subwordMeans = g.Node("Div", [sums, g.Node("Unsqueeze", [g.Node("Max", [counts, g.Scalar("subword_min_count", 1f)]), axis1])]);

        var flatIds = g.Node("Squeeze", [ids, axis0]);                                                       // [n]
        var inVocabulary = g.Node("Greater", [flatIds, g.Int64s("subword_unknown_id", [0])]);
        var own = g.Node("Gather", [embeddings, flatIds], Int("axis", 0));                                   // [n, d]
        var states = g.Node("Where", [g.Node("Unsqueeze", [inVocabulary, axis1]), own, subwordMeans]);
        var known = g.Node("Or", [inVocabulary, g.Node("Greater", [counts, g.Scalar("subword_no_count", 0f)])]);
        return (g.Node("Unsqueeze", [states, axis0]), g.Node("Unsqueeze", [known, axis0]));
    }
}
