using Microsoft.ML.Data;

namespace Microsoft.ML.Coherence.Internal;

/// <summary>
/// Strings as a data view with one text column of any name: what the scoring chain is fitted on (no rows) and what the
/// embedding generator scores.
/// </summary>
internal static class TextColumnView
{
    /// <summary>The view's schema definition, its one column renamed to <paramref name="column"/>; reusable across loads.</summary>
    public static SchemaDefinition Definition(string column)
    {
        var definition = SchemaDefinition.Create(typeof(TextRow));
        definition[0].ColumnName = column;
        return definition;
    }

    /// <summary>The rows of <paramref name="texts"/> (none may be null) under <paramref name="definition"/>.</summary>
    public static IDataView Load(MLContext mlContext, IReadOnlyList<string> texts, SchemaDefinition definition) =>
        mlContext.Data.LoadFromEnumerable(texts.Select(text => new TextRow { Text = text }), definition);

    private sealed class TextRow
    {
        public string Text { get; set; } = "";
    }
}
