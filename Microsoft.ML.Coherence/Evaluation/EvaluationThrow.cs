using System.Diagnostics.CodeAnalysis;

namespace Microsoft.ML.Coherence.Evaluation;

/// <summary>The one throw helper of the evaluation metrics: messages show the bad value and what is allowed.</summary>
internal static class EvaluationThrow
{
    [DoesNotReturn]
    public static void ArgumentOutOfRange(string paramName, object? value, string allowed) =>
        throw new ArgumentOutOfRangeException(paramName, value, $"'{paramName}' is {value ?? "null"}; allowed: {allowed}.");

    [DoesNotReturn]
    public static void Argument(string paramName, string message) =>
        throw new ArgumentException(message, paramName);

    public static void IfNull([NotNull] object? value, string paramName)
    {
        if (value is null)
        {
            throw new ArgumentNullException(paramName);
        }
    }

    public static void IfLengthDiffers(int actual, int expected, string paramName, string what)
    {
        if (actual != expected)
        {
            Argument(paramName, $"'{paramName}' has length {actual}; expected {expected} ({what}).");
        }
    }
}
