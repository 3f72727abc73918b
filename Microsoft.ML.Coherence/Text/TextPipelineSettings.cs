using Microsoft.ML.Transforms.Text;

namespace Microsoft.ML.Coherence.Text;

/// <summary>
/// The text normalisation and word tokenisation settings, in one place: the tokens the encoder is
/// trained on must be exactly the tokens the saved scoring chain produces. These are ML.NET's own
/// defaults for NormalizeText and TokenizeIntoWords.
/// </summary>
internal static class TextPipelineSettings
{
    /// <summary>Case folding: lower case (NormalizeText default).</summary>
    public const TextNormalizingEstimator.CaseMode CaseMode = TextNormalizingEstimator.CaseMode.Lower;

    /// <summary>Diacritics are removed (NormalizeText default).</summary>
    public const bool KeepDiacritics = false;

    /// <summary>Punctuation is kept (NormalizeText default).</summary>
    public const bool KeepPunctuations = true;

    /// <summary>Digits are kept (NormalizeText default).</summary>
    public const bool KeepNumbers = true;

    /// <summary>The one word separator: a space (TokenizeIntoWords default).</summary>
    public const char WordSeparator = ' ';
}
