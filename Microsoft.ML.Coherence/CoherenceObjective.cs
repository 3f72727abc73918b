namespace Microsoft.ML.Coherence;

/// <summary>What the language-model term L_task of training predicts.</summary>
public enum CoherenceObjective
{
    /// <summary>
    /// The next word from the words before it (a causal language model): the only choice with Transformer layers, and the
    /// one whose held-out perplexity is a perplexity in the usual sense.
    /// </summary>
    NextToken = 0,

    /// <summary>
    /// Each word from the mean of the <see cref="CoherenceEmbeddingOptions.StaticContextSize"/> words on either side of it
    /// (CBOW-style, two-sided), static mode only. Its held-out "perplexity" is that of predicting a word from both sides.
    /// </summary>
    CenterWord = 1,
}
