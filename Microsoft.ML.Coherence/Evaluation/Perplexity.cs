using Microsoft.ML.Coherence.Internal;
namespace Microsoft.ML.Coherence.Evaluation;

/// <summary>Perplexity from an accumulated negative log-likelihood.</summary>
public static class Perplexity
{
    /// <summary>
    /// exp(totalNll / tokenCount): the perplexity of <paramref name="tokenCount"/> predicted tokens
    /// whose negative log-likelihoods (natural log) sum to <paramref name="totalNegativeLogLikelihood"/>.
    /// Accumulate the sum in double over the whole held-out set, rather than averaging batch perplexities.
    /// </summary>
    /// <param name="totalNegativeLogLikelihood">Sum of -ln p(token) in nats; finite and non-negative.</param>
    /// <param name="tokenCount">Number of predicted tokens; at least 1.</param>
    public static double FromNegativeLogLikelihood(double totalNegativeLogLikelihood, long tokenCount)
    {
        if (tokenCount < 1)
        {
            CoherenceThrow.ValueOutOfRange(nameof(tokenCount), tokenCount, "at least 1 predicted token");
        }

        if (!double.IsFinite(totalNegativeLogLikelihood) || totalNegativeLogLikelihood < 0)
        {
            CoherenceThrow.ValueOutOfRange(nameof(totalNegativeLogLikelihood), totalNegativeLogLikelihood, "a finite sum of negative log-likelihoods in nats, >= 0");
        }

        return Math.Exp(totalNegativeLogLikelihood / tokenCount);
    }
}
