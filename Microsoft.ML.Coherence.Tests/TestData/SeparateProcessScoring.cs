namespace Microsoft.ML.Coherence.Tests.TestData;

/// <summary>
/// Scores texts with a saved model zip in a separate process that loads only ML.NET and ONNX Runtime
/// (<c>tools/Coherence.ModelLoadCheck</c>, built next to the tests), and fails the test if that process loaded
/// TorchSharp, libtorch or this library.
/// </summary>
internal static class SeparateProcessScoring
{
    /// <summary>Saves nothing itself: reads <paramref name="zip"/> and returns each text's features, in order.</summary>
    /// <param name="zip">The saved model.</param>
    /// <param name="texts">The texts to score.</param>
    /// <param name="featureColumn">The vector column to read back.</param>
    /// <param name="environment">Variables to set in the child (a null value removes one); the rest are inherited.</param>
    public static float[][] Features(string zip, IReadOnlyList<string> texts, string featureColumn, IReadOnlyDictionary<string, string?>? environment = null)
    {
        string directory = Directory.CreateTempSubdirectory("coherence-load-check").FullName;
        try
        {
            string input = Path.Combine(directory, "texts.txt"), output = Path.Combine(directory, "out.tsv");
            File.WriteAllLines(input, texts);
            var (exitCode, stdout, stderr) = ToolProcess.Run("Coherence.ModelLoadCheck", [zip, input, output, featureColumn], environment);
            Assert.AreEqual(0, exitCode, stdout + stderr);
            var lines = File.ReadAllLines(output);
            Assert.HasCount(texts.Count, lines);
            return lines.Select(line => line.Split('\t')[0].Split(' ')
                .Select(v => float.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray()).ToArray();
        }
        finally
        {
            Directory.Delete(directory, true);
        }
    }
}
