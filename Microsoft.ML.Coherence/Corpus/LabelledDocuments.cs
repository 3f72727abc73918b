using Microsoft.ML.Coherence.Internal;

namespace Microsoft.ML.Coherence.Corpus;

/// <summary>
/// The labelled documents of the training split, divided into those the label loss trains on and those it never sees
/// (held out, seeded, to measure label accuracy). Each keeps its class, its document index in the training corpus and
/// its row index in the caller's data.
/// </summary>
internal sealed class LabelledDocuments
{
    public LabelledDocuments(int classCount, LabelledDocument[] training, LabelledDocument[] heldOut)
    {
        ClassCount = classCount;
        Training = training;
        HeldOut = heldOut;
    }

    public int ClassCount { get; }

    /// <summary>Documents the label loss draws from.</summary>
    public LabelledDocument[] Training { get; }

    /// <summary>Documents kept out of the label loss; the head's accuracy on them is the held-out label accuracy.</summary>
    public LabelledDocument[] HeldOut { get; }

    /// <summary>
    /// The labelled documents of the training split: row i of <paramref name="labels"/> is document i of the corpus, and the
    /// training split keeps the rows for which <paramref name="isHeldOutForPerplexity"/> is false, in order (as
    /// <see cref="PreparedCorpus"/> encodes them). A labelled row is held out of the label loss when a seeded hash of its row index
    /// falls below <paramref name="holdOutFraction"/>; the first labelled row always trains.
    /// </summary>
    public static LabelledDocuments Select(LabeledCorpus labels, Func<int, bool> isHeldOutForPerplexity, double holdOutFraction, int seed)
    {
        var training = new List<LabelledDocument>();
        var heldOut = new List<LabelledDocument>();
        ulong threshold = holdOutFraction <= 0 ? 0 : (ulong)(holdOutFraction * ulong.MaxValue);
        int document = 0;
        for (int row = 0; row < labels.RowLabels.Length; row++)
        {
            if (isHeldOutForPerplexity(row))
                continue;
            int label = labels.RowLabels[row];
            if (label != LabeledCorpus.NoLabel)
            {
                var item = new LabelledDocument(document, row, label);
                bool holdOut = training.Count > 0 && SplitMix.Hash((ulong)(uint)seed ^ 0x1ABE1UL, (ulong)row) < threshold;
                (holdOut ? heldOut : training).Add(item);
            }
            document++;
        }
        return new LabelledDocuments(labels.Classes.Length, training.ToArray(), heldOut.ToArray());
    }
}

/// <param name="Document">Index in the training <see cref="TokenCorpus"/>.</param>
/// <param name="Row">Index of the row in the data given to Fit.</param>
/// <param name="Label">Class index.</param>
internal readonly record struct LabelledDocument(int Document, int Row, int Label);
