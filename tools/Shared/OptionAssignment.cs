using System.Globalization;
using Microsoft.ML.Coherence;

namespace Coherence.Tools;

/// <summary>"Option=value" settings of <see cref="CoherenceEmbeddingOptions"/>, by property name (invariant culture).</summary>
internal static class OptionAssignment
{
    /// <summary>Null when <paramref name="assignment"/> names a settable property with a valid value; otherwise what is wrong and what is valid.</summary>
    public static string? Check(string assignment)
    {
        try
        {
            Apply(new CoherenceEmbeddingOptions(), assignment);
            return null;
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
    }

    /// <summary>Sets the property <paramref name="assignment"/> names. Throws <see cref="ArgumentException"/> naming the setting and what is valid.</summary>
    public static void Apply(CoherenceEmbeddingOptions options, string assignment)
    {
        var parts = assignment.Split('=', 2);
        var properties = typeof(CoherenceEmbeddingOptions).GetProperties().Where(p => p.CanWrite).Select(p => p.Name).Order(StringComparer.Ordinal);
        if (parts.Length != 2)
        {
            throw new ArgumentException($"'{assignment}' has no '='; for example CoherenceWeight=0.5.");
        }

        var property = typeof(CoherenceEmbeddingOptions).GetProperty(parts[0]);
        if (property is null || !property.CanWrite)
        {
            throw new ArgumentException($"'{parts[0]}' is not a CoherenceEmbeddingOptions property; valid: {string.Join(", ", properties)}.");
        }

        var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        try
        {
            object value = type.IsEnum
                ? Enum.Parse(type, parts[1])
                : Convert.ChangeType(parts[1], type, CultureInfo.InvariantCulture);
            property.SetValue(options, value);
        }
        catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException or ArgumentException)
        {
            string valid = type.IsEnum ? $"one of {string.Join(", ", Enum.GetNames(type))}" : $"a {type.Name} (invariant culture)";
            throw new ArgumentException($"'{parts[1]}' is not a valid {parts[0]}; expected {valid}.", e);
        }
    }
}
