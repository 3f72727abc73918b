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
    internal static readonly ConstructorInfo? Constructor = typeof(SchemaShape.Column).GetConstructors(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)
        .FirstOrDefault(c => c.GetParameters().Length == 5 && c.GetParameters()[0].ParameterType == typeof(string));

    /// <summary>A known-size vector of float (SchemaShape records that the size is known, not the size).</summary>
    public static SchemaShape.Column FloatVector(string name) => FloatVector(name, Constructor);

    /// <summary>The same with a given constructor (null: as if a future ML.NET had removed it).</summary>
    internal static SchemaShape.Column FloatVector(string name, ConstructorInfo? constructor)
    {
        if (constructor is null)
            throw new InvalidOperationException($"SchemaShape.Column in Microsoft.ML {MLNetVersion.InUse} has no (name, kind, type, isKey, annotations) " +
                $"constructor; Microsoft.ML.Coherence is tested with Microsoft.ML {MLNetVersion.Tested}.");
        return (SchemaShape.Column)constructor.Invoke([name, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, false, null]);
    }
}
