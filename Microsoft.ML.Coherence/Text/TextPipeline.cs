using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Text;

namespace Microsoft.ML.Coherence.Text;

/// <summary>The one place that turns raw text into word tokens, for training and for scoring alike.</summary>
internal static class TextPipeline
{
    /// <summary>
    /// NormalizeText then TokenizeIntoWords, with <see cref="TextPipelineSettings"/>: reads the text column
    /// <paramref name="inputColumn"/> (String) and writes <paramref name="outputTokensColumn"/>
    /// (variable-length Vector&lt;String&gt;). The normalised text is written to the tokens column and
    /// tokenised in place, so no other column is added. White space and control characters always separate
    /// words; with <paramref name="splitPunctuation"/> punctuation does too (see <see cref="TextPipelineSettings"/>).
    /// </summary>
    public static EstimatorChain<WordTokenizingTransformer> CreateTextEstimator(MLContext mlContext, string outputTokensColumn, string inputColumn,
        bool splitPunctuation)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentException.ThrowIfNullOrEmpty(outputTokensColumn);
        ArgumentException.ThrowIfNullOrEmpty(inputColumn);
        return mlContext.Transforms.Text.NormalizeText(
                outputTokensColumn,
                inputColumn,
                TextPipelineSettings.CaseMode,
                TextPipelineSettings.KeepDiacritics,
                TextPipelineSettings.KeepPunctuations,
                TextPipelineSettings.KeepNumbers)
            .Append(mlContext.Transforms.Text.TokenizeIntoWords(outputTokensColumn, outputTokensColumn, TextPipelineSettings.Separators(splitPunctuation)));
    }
}
