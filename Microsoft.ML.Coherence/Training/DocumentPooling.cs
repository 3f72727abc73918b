using Microsoft.ML.Coherence.Internal;
using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Training;

/// <summary>The mean pooling of documents that the document terms train through: the sparse product of a <see cref="BagEntries"/>.</summary>
internal static class DocumentPooling
{
    /// <summary><paramref name="features"/> [B, d] + the weighted rows of <paramref name="table"/> (the distinct rows of <paramref name="bag"/>) per document.</summary>
    public static Tensor Add(Tensor features, Tensor table, BagEntries bag)
    {
        var device = features.device;
        var weighted = table.index_select(0, tensor(bag.EntrySlot).to(device))
                       * tensor(bag.EntryWeight).to(device).unsqueeze(1);                               // [E, d]
        return features.IndexAdd(0, tensor(bag.EntryDocument).to(device), weighted);
    }
}
