using System.Diagnostics.CodeAnalysis;

namespace Microsoft.ML.Coherence.Internal;

/// <summary>
/// The one place that throws for bad input (as Sep's SepThrow does): every message shows the bad
/// value and what is valid, and every argument exception carries the parameter name.
/// </summary>
internal static class CoherenceThrow
{
    [DoesNotReturn]
    public static void ArgumentOutOfRange(string paramName, object? actualValue, string message) =>
        throw new ArgumentOutOfRangeException(paramName, actualValue, message);

    [DoesNotReturn]
    public static void Argument(string paramName, string message) =>
        throw new ArgumentException(message, paramName);

    /// <summary>ML.NET's wording (Contracts.ExceptSchemaMismatch) for a column that is absent.</summary>
    [DoesNotReturn]
    public static void ColumnNotFound(string paramName, string columnName, string role = "input") =>
        throw new ArgumentException($"Could not find {role} column '{columnName}'", paramName);

    /// <summary>ML.NET's wording (Contracts.ExceptSchemaMismatch) for a column of the wrong type.</summary>
    [DoesNotReturn]
    public static void SchemaMismatch(string paramName, string columnName, string expectedType, string actualType, string role = "input") =>
        throw new ArgumentException(
            $"Schema mismatch for {role} column '{columnName}': expected {expectedType}, got {actualType}", paramName);

    /// <summary>A saved stream that is not what its reader expects (wrong magic, version or values).</summary>
    [DoesNotReturn]
    public static void InvalidData(string what, string message) =>
        throw new InvalidDataException($"The stream is not a valid {what}: {message}");

    /// <summary>An option outside its range: names the option, its value and the valid values.</summary>
    [DoesNotReturn]
    public static void OptionOutOfRange(string option, object? value, string valid) =>
        throw new ArgumentOutOfRangeException(option, value, $"Option '{option}' is {Invariant(value)}; valid: {valid}.");

    /// <summary>A corpus that cannot be trained on.</summary>
    [DoesNotReturn]
    public static void InvalidCorpus(string message) =>
        throw new ArgumentException(message, "corpus");

    /// <summary>A value outside its allowed range; the message shows the name, the value and what is allowed.</summary>
    [DoesNotReturn]
    public static void ValueOutOfRange(string paramName, object? value, string allowed) =>
        throw new ArgumentOutOfRangeException(paramName, value, $"'{paramName}' is {Invariant(value)}; allowed: {allowed}.");

    /// <summary>A value as C# source would write it (0.5, not 0,5), whatever the current culture: users paste it back into code.</summary>
    private static string Invariant(object? value) => value is null ? "null" : Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "null";

    public static void IfNull([NotNull] object? value, string paramName)
    {
        if (value is null)
            throw new ArgumentNullException(paramName);
    }

    public static void IfLengthDiffers(int actual, int expected, string paramName, string what)
    {
        if (actual != expected)
            Argument(paramName, $"'{paramName}' has length {actual}; expected {expected} ({what}).");
    }
}
