namespace Microsoft.ML.Coherence.Tests.TestData;

/// <summary>The committed real-data samples (data/sample), found from the test binaries by walking up to Coherence.sln.</summary>
internal static class SampleData
{
    public sealed class Row
    {
        public string Label { get; set; } = "";
        public string Text { get; set; } = "";
    }

    public static string RepositoryRoot { get; } = FindRoot();

    public static List<Row> Read(string relativePath, int? limit = null) =>
        File.ReadLines(Path.Combine(RepositoryRoot, relativePath))
            .Select(line => line.Split('\t', 2))
            .Select(parts => new Row { Label = parts[0], Text = parts[1] })
            .Take(limit ?? int.MaxValue)
            .ToList();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Coherence.sln")))
                return dir.FullName;
        }
        throw new DirectoryNotFoundException("Coherence.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>ML.NET keeps SchemaShape.Create internal; tests reach it by reflection to call GetOutputSchema as ML.NET's own tests do.</summary>
internal static class Shapes
{
    public static Microsoft.ML.SchemaShape Of(Microsoft.ML.DataViewSchema schema) =>
        (Microsoft.ML.SchemaShape)typeof(Microsoft.ML.SchemaShape).GetMethod("Create", System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public)!
            .Invoke(null, [schema])!;
}
