using Microsoft.ML.Coherence.Internal;
using Microsoft.ML.Data;

namespace Microsoft.ML.Coherence.Corpus;

/// <summary>
/// The label of every row of the corpus, as a class index (-1 for a row without a label), read in one streaming pass
/// over the label column: 4 bytes a row, no text kept. Row i is the corpus' document i (the tokenizer yields one document
/// a row, in row order), so the labels travel with the documents through the held-out split by index.
/// </summary>
internal sealed class LabeledCorpus
{
    public const int NoLabel = -1;

    // ML.NET's annotation kind for a key's values (AnnotationUtils.Kinds.KeyValues, internal to outside assemblies).
    private const string KeyValuesKind = "KeyValues";

    public LabeledCorpus(int[] rowLabels, string[] classes)
    {
        RowLabels = rowLabels;
        Classes = classes;
    }

    /// <summary>Class index of each row, or <see cref="NoLabel"/>.</summary>
    public int[] RowLabels { get; }

    /// <summary>The class names, in first-seen order (index = class).</summary>
    public string[] Classes { get; }

    /// <summary>Rows with a label.</summary>
    public int LabelledRows => RowLabels.Count(l => l != NoLabel);

    /// <summary>The label column's schema check, ML.NET's wording: a String, a Boolean or a key, one value a row.</summary>
    public static void ValidateColumn(DataViewSchema schema, string labelColumn)
    {
        var column = schema.GetColumnOrNull(labelColumn);
        if (column is null)
            CoherenceThrow.ColumnNotFound("input", labelColumn, "label");
        if (!IsLabelType(column.Value.Type))
            CoherenceThrow.SchemaMismatch("input", labelColumn, "String, Boolean or Key", column.Value.Type.ToString() ?? "unknown", "label");
    }

    /// <summary>The same check on a schema shape (the estimator's <c>GetOutputSchema</c>).</summary>
    public static void ValidateColumn(SchemaShape schema, string labelColumn, Func<SchemaShape.Column, string> describe)
    {
        var found = schema.Where(c => c.Name == labelColumn).ToArray();
        if (found.Length == 0)
            CoherenceThrow.ColumnNotFound("inputSchema", labelColumn, "label");
        var column = found[^1];
        if (column.Kind != SchemaShape.Column.VectorKind.Scalar || !(column.IsKey || column.ItemType is TextDataViewType or BooleanDataViewType))
            CoherenceThrow.SchemaMismatch("inputSchema", labelColumn, "String, Boolean or Key", describe(column), "label");
    }

    private static bool IsLabelType(DataViewType type) => type is TextDataViewType or BooleanDataViewType or KeyDataViewType;

    /// <summary>
    /// Reads the labels of <paramref name="data"/>: text trimmed of white space (empty means no label), a Boolean (classes
    /// "False" and "True", the label type of ML.NET's binary trainers), or a key (0, the missing key, means no label; the class
    /// name is the key's value when the column carries KeyValues, else the key).
    /// </summary>
    public static LabeledCorpus Read(IDataView data, string labelColumn)
    {
        ValidateColumn(data.Schema, labelColumn);
        var column = data.Schema[labelColumn];
        var labels = new List<int>();
        var classOf = new Dictionary<string, int>(StringComparer.Ordinal);
        var classes = new List<string>();
        using var cursor = data.GetRowCursor([column]);
        void Add(string? name)
        {
            if (name is null)
            {
                labels.Add(NoLabel);
                return;
            }
            if (!classOf.TryGetValue(name, out int index))
            {
                index = classes.Count;
                classOf[name] = index;
                classes.Add(name);
            }
            labels.Add(index);
        }

        ReadNames(cursor, column, Add);
        return new LabeledCorpus(labels.ToArray(), classes.ToArray());
    }

    /// <summary>Each row's class name, in row order: the trimmed text, "True"/"False", or the key's name (null for no label).</summary>
    private static void ReadNames(DataViewRowCursor cursor, DataViewSchema.Column column, Action<string?> add)
    {
        if (column.Type is TextDataViewType)
        {
            var getter = cursor.GetGetter<ReadOnlyMemory<char>>(column);
            var value = default(ReadOnlyMemory<char>);
            while (cursor.MoveNext())
            {
                getter(ref value);
                var trimmed = value.Span.Trim();
                add(trimmed.IsEmpty ? null : trimmed.ToString());
            }
        }
        else if (column.Type is BooleanDataViewType)
        {
            var getter = cursor.GetGetter<bool>(column);
            bool value = false;
            while (cursor.MoveNext())
            {
                getter(ref value);
                add(value ? bool.TrueString : bool.FalseString);
            }
        }
        else
        {
            var names = KeyNames(column);
            var read = KeyReader(cursor, column);
            while (cursor.MoveNext())
            {
                ulong key = read();
                add(key == 0 ? null : names is not null && key <= (ulong)names.Length ? names[key - 1] : key.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }
    }

    private static string[]? KeyNames(DataViewSchema.Column column)
    {
        if (column.Annotations.Schema.GetColumnOrNull(KeyValuesKind) is not { } annotation)
            return null;
        if (annotation.Type is not VectorDataViewType { ItemType: TextDataViewType })
            return null;
        var values = default(VBuffer<ReadOnlyMemory<char>>);
        column.Annotations.GetValue(KeyValuesKind, ref values);
        return values.DenseValues().Select(v => v.ToString()).ToArray();
    }

    private static Func<ulong> KeyReader(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        var raw = ((KeyDataViewType)column.Type).RawType;
        if (raw == typeof(byte))
        {
            var getter = cursor.GetGetter<byte>(column);
            byte value = 0;
            return () => { getter(ref value); return value; };
        }
        if (raw == typeof(ushort))
        {
            var getter = cursor.GetGetter<ushort>(column);
            ushort value = 0;
            return () => { getter(ref value); return value; };
        }
        if (raw == typeof(uint))
        {
            var getter = cursor.GetGetter<uint>(column);
            uint value = 0;
            return () => { getter(ref value); return value; };
        }
        var wide = cursor.GetGetter<ulong>(column);
        ulong wideValue = 0;
        return () => { wide(ref wideValue); return wideValue; };
    }
}
