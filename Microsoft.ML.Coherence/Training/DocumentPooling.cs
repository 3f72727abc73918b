using Microsoft.ML.Coherence.Corpus;
using Microsoft.ML.Coherence.Internal;
using Microsoft.ML.Coherence.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Training;

/// <summary>
/// What the document terms (<see cref="IDocumentTerm"/>) share: their seeded draw of documents, its size, and the mean pooling
/// they train through (the sparse product of a <see cref="BagEntries"/>).
/// </summary>
internal static class DocumentPooling
{
    /// <summary>Documents per step for <paramref name="passes"/> passes over <paramref name="documents"/> documents in <paramref name="steps"/> steps, 1 to <paramref name="max"/>.</summary>
    public static int BatchSize(double passes, int documents, int steps, int max = int.MaxValue) =>
        (int)Math.Clamp(Math.Ceiling(passes * documents / steps), 1, max);

    /// <summary><paramref name="count"/> documents drawn with replacement, seeded by (<paramref name="seed"/>, <paramref name="step"/>) so runs repeat and resume alike.</summary>
    public static LabelledDocument[] Draw(LabelledDocument[] documents, int count, int seed, int step)
    {
        var random = SplitMix.ForStep(seed, step);
        var drawn = new LabelledDocument[count];
        for (int i = 0; i < drawn.Length; i++)
            drawn[i] = documents[random.Next(documents.Length)];
        return drawn;
    }

    /// <summary>The mean word vectors [B, d] of a batch's documents (unknown words skipped), through <see cref="CoherenceLanguageModel.Rows(long[])"/>.</summary>
    public static Tensor MeanWords(CoherenceLanguageModel model, LabelBatch batch, Device device)
    {
        var features = zeros(batch.DocumentCount, model.Dimension, device: device);                    // [B, d]
        var bag = batch.Words;
        if (bag.DistinctIds.Length == 0)
            return features;
        var weighted = model.Rows(bag.DistinctIds).index_select(0, tensor(bag.EntrySlot).to(device))
                       * tensor(bag.EntryWeight).to(device).unsqueeze(1);                               // [E, d]
        return features.IndexAdd(0, tensor(bag.EntryDocument).to(device), weighted);
    }
}
