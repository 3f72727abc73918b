using System.Diagnostics.CodeAnalysis;

namespace Microsoft.ML.Coherence.Internal;

/// <summary>One place for the errors users see: each names the thing, its value and what would be valid.</summary>
internal static class CoherenceThrow
{
    [DoesNotReturn]
    public static void OptionOutOfRange(string option, object? value, string valid) =>
        throw new ArgumentOutOfRangeException(option, value,
            $"Option '{option}' is {value ?? "null"}; valid: {valid}.");

    [DoesNotReturn]
    public static void ColumnNotFound(string column) =>
        throw new ArgumentOutOfRangeException(nameof(column), column,
            $"Could not find input column '{column}'.");

    [DoesNotReturn]
    public static void ColumnTypeMismatch(string column, string expected, string actual) =>
        throw new ArgumentOutOfRangeException(nameof(column), column,
            $"Schema mismatch for input column '{column}': expected {expected}, got {actual}.");

    [DoesNotReturn]
    public static void InvalidCorpus(string message) =>
        throw new ArgumentException(message, "corpus");
}
