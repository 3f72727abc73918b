using System.Reflection;
using Microsoft.ML.Data;

namespace Microsoft.ML.Coherence.Internal;

/// <summary>
/// Makes the <see cref="SchemaShape.Column"/> an estimator declares. ML.NET 5 keeps the column's
/// constructor internal (its own estimators use it through CatalogUtils), so it is reached by
/// reflection here, in this one place, with a clear error if a future version changes it.
/// </summary>
internal static class SchemaShapeColumns
{
    private static readonly ConstructorInfo? Constructor = typeof(SchemaShape.Column).GetConstructors(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)
        .FirstOrDefault(c => c.GetParameters().Length == 5 && c.GetParameters()[0].ParameterType == typeof(string));

    /// <summary>A known-size vector of float (SchemaShape records that the size is known, not the size).</summary>
    public static SchemaShape.Column FloatVector(string name)
    {
        if (Constructor is null)
            throw new InvalidOperationException("This ML.NET version's SchemaShape.Column has no (name, kind, type, isKey, annotations) constructor; Microsoft.ML.Coherence needs Microsoft.ML 5.0.x.");
        return (SchemaShape.Column)Constructor.Invoke([name, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false, null]);
    }
}
