namespace Microsoft.ML.Coherence;

/// <summary>How the per-token vectors of a row are pooled into one fixed-length feature vector.</summary>
public enum CoherencePooling
{
    /// <summary>Mean over the row's known tokens: a vector of length <c>EmbeddingDimension</c>.</summary>
    Mean = 0,

    /// <summary>Mean then element-wise max over the row's known tokens, concatenated: length 2 x <c>EmbeddingDimension</c>.</summary>
    MeanMax = 1,
}
