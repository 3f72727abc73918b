namespace Microsoft.ML.Coherence.Tests.TestData;

/// <summary>A new empty folder under the temp path for one test, removed afterwards (even if the test removed it itself).</summary>
internal static class TempFolder
{
    public static void Use(string prefix, Action<string> test)
    {
        string folder = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            test(folder);
        }
        finally
        {
            if (Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }
    }
}
