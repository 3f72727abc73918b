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

    /// <summary>The space, the separator of TokenizeIntoWords' default.</summary>
    public const char WordSeparator = ' ';

    /// <summary>
    /// Always separators: white space and control characters (ASCII and C1 controls, Unicode spaces, line and
    /// paragraph separators, zero-width characters), so no token ever holds a tab, a newline or another control
    /// character, and exported vector files stay one token per line.
    /// </summary>
    public static IReadOnlyList<char> WhitespaceSeparators { get; } = CreateWhitespaceSeparators();

    /// <summary>
    /// Separators too when punctuation is split from words: ASCII punctuation and symbols, Latin-1 punctuation and
    /// the General Punctuation block (dashes, quotes, ellipsis), so "world!" and "world" are one word. The marks
    /// themselves are dropped, as the separators of TokenizeIntoWords are.
    /// </summary>
    public static IReadOnlyList<char> PunctuationSeparators { get; } = CreatePunctuationSeparators();

    /// <summary>The separators TokenizeIntoWords splits on.</summary>
    public static char[] Separators(bool splitPunctuation) =>
        splitPunctuation ? [.. WhitespaceSeparators, .. PunctuationSeparators] : [.. WhitespaceSeparators];

    private static char[] CreateWhitespaceSeparators()
    {
        var chars = new List<char>();
        for (int c = 0; c <= 0x20; c++)
            chars.Add((char)c);
        for (int c = 0x7F; c <= 0xA0; c++)
            chars.Add((char)c);
        chars.Add('\u1680');
        for (int c = 0x2000; c <= 0x200F; c++)
            chars.Add((char)c);
        chars.AddRange(['\u2028', '\u2029', '\u202F', '\u205F', '\u2060', '\u3000', '\uFEFF']);
        return [.. chars];
    }

    private static char[] CreatePunctuationSeparators()
    {
        var chars = new List<char>();
        for (char c = '!'; c <= '~'; c++)
        {
            if (!char.IsLetterOrDigit(c))
                chars.Add(c);
        }
        chars.AddRange("¡¦§¨«¬¯°±´¶·¸»¿×÷");
        for (int c = 0x2010; c <= 0x2027; c++)
            chars.Add((char)c);
        for (int c = 0x2030; c <= 0x205E; c++)
        {
            if (c != 0x205F)
                chars.Add((char)c);
        }
        return [.. chars];
    }
}
