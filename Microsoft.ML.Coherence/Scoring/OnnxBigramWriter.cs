using Microsoft.ML.Coherence.Modules;
using static Microsoft.ML.Coherence.Scoring.OnnxGraphBuilder;

namespace Microsoft.ML.Coherence.Scoring;

/// <summary>
/// Word bigrams in the static encoder's graph (<see cref="Statistics.WordBigrams"/>): the row's n - 1 pairs of consecutive
/// ids, hashed to their slot and looked up in the slot table with integer ONNX operators, give n - 1 more states (the
/// bigram vectors; pairs without one read the zero row 0 and are not pooled), appended to the words' states, so the mean
/// averages words and bigrams together as the label-aware training did.
/// </summary>
internal static class OnnxBigramWriter
{
    /// <summary>
    /// Returns the states [1, n + n - 1, d] and pooled positions [1, n + n - 1] (bool): <paramref name="states"/> and
    /// <paramref name="known"/> for the words of <paramref name="ids"/> [1, n] int64, then the bigrams'.
    /// </summary>
    public static (string States, string Known) Write(OnnxGraphBuilder g, CoherenceEncoderWeights w, string ids, string states, string known)
    {
        var bigrams = w.Bigrams();
        var axis0 = g.Vector("bigram_axis0", 0);
        var zero = g.Int64s("bigram_zero", [0]);
        var flat = g.Node("Squeeze", [ids, axis0]);                                                     // [n]
        var n = g.Node("Shape", [flat]);                                                                 // [1]
        var first = g.Node("Slice", [flat, g.Vector("bigram_first_start", 0), g.Node("Sub", [n, g.Vector("bigram_one", 1)]), axis0]); // ids[0 .. n-1)
        var second = g.Node("Slice", [flat, g.Vector("bigram_second_start", 1), n, axis0]);             // ids[1 .. n)
        var slot = g.Node("Mod", [
            g.Node("Add", [g.Node("Mul", [first, g.Int64s("bigram_multiplier", [Statistics.WordBigrams.Multiplier])]), second]),
            g.Int64s("bigram_slots", [bigrams.SlotCount])]);
        var slotRows = g.Int64s("bigram_slot_rows", Array.ConvertAll(bigrams.SlotRows, r => (long)r), bigrams.SlotCount);
        var bothKnown = g.Node("And", [g.Node("Greater", [first, zero]), g.Node("Greater", [second, zero])]);
        var rows = g.Node("Where", [bothKnown, g.Node("Gather", [slotRows, slot], Int("axis", 0)), zero]); // [n - 1], 0 = no vector

        var table = (float[])w.BigramVectors.Clone();
        Array.Clear(table, 0, w.Dimension); // row 0 contributes nothing to the sum (pooling relies on it in static mode)
        var vectors = g.Node("Gather", [g.Floats("bigram_vectors", table, bigrams.RowCount, w.Dimension), rows], Int("axis", 0)); // [n - 1, d]
        var hasVector = g.Node("Greater", [rows, zero]);                                                 // [n - 1]
        return (g.Node("Concat", [states, g.Node("Unsqueeze", [vectors, axis0])], Int("axis", 1)),
                g.Node("Concat", [known, g.Node("Unsqueeze", [hasVector, axis0])], Int("axis", 1)));
    }
}
