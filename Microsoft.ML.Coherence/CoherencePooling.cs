namespace Microsoft.ML.Coherence;

/// <summary>How the per-token vectors of a row are pooled into one fixed-length feature vector.</summary>
public enum CoherencePooling
{
    /// <summary>Mean over the row's known tokens: a vector of length <c>EmbeddingDimension</c>.</summary>
    Mean = 0,

    /// <summary>Mean then element-wise max over the row's known tokens, concatenated: length 2 x <c>EmbeddingDimension</c>.</summary>
    MeanMax = 1,

    /// <summary>
    /// Smooth inverse frequency (Arora, Liang and Ma, 2017): the mean over the row's known tokens of each vector
    /// weighted by a / (a + p(w)), with p(w) the token's share of the training tokens and a = 10⁻³, so frequent words
    /// count less; then the common component (the first principal direction of the pooled training rows) is removed.
    /// Length <c>EmbeddingDimension</c>. Both steps are part of the exported graph.
    /// </summary>
    Sif = 2,
}
