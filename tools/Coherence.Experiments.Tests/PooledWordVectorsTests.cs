using Microsoft.ML;
using Microsoft.ML.Data;

namespace Coherence.Experiments.Tests;

[TestClass]
public sealed class PooledWordVectorsTests
{
    [TestMethod]
    public void ApplyWordEmbeddingPoolingIsTheMeanOfTheKnownTokens()
    {
        var directory = Directory.CreateTempSubdirectory("pool-").FullName;
        try
        {
            var vec = Path.Combine(directory, "tiny.vec");
            File.WriteAllText(vec, "3 2\nhello 1 2\nworld 3 -4\nspam 0.5 0.25\n");
            var ml = new MLContext(1);
            var data = ml.Data.LoadFromEnumerable(new[]
            {
                new Row { Text = "Hello hello WORLD" },  // the stage's tokens: lower case
                new Row { Text = "spam unknown" },       // an unknown token does not count in the mean
                new Row { Text = "nothing known here" }, // no known token: zero
                new Row { Text = "world! spam" },        // with punctuation kept attached, "world!" is unknown
            });
            var pooled = PooledWordVectors.Create(ml, "Features", "Text", vec, 2, splitPunctuation: false).Fit(data).Transform(data);
            Assert.AreEqual(2, ((VectorDataViewType)pooled.Schema["Features"].Type).Size);
            var rows = pooled.GetColumn<float[]>("Features").ToArray();
            // Hand-computed: (1 + 1 + 3) / 3 = 5/3 and (2 + 2 - 4) / 3 = 0.
            CollectionAssert.AreEqual(new[] { 5f / 3, 0f }, rows[0], new Tolerance(1e-6f));
            CollectionAssert.AreEqual(new[] { 0.5f, 0.25f }, rows[1], new Tolerance(1e-6f));
            CollectionAssert.AreEqual(new[] { 0f, 0f }, rows[2], new Tolerance(1e-6f));
            CollectionAssert.AreEqual(new[] { 0.5f, 0.25f }, rows[3], new Tolerance(1e-6f));

            // Split from words (the stage's default), "world!" is "world": (3 + 0.5) / 2 and (-4 + 0.25) / 2.
            var split = PooledWordVectors.Create(ml, "Features", "Text", vec, 2, splitPunctuation: true).Fit(data).Transform(data);
            var splitRows = split.GetColumn<float[]>("Features").ToArray();
            CollectionAssert.AreEqual(new[] { 1.75f, -1.875f }, splitRows[3], new Tolerance(1e-6f));
            CollectionAssert.AreEqual(new[] { 5f / 3, 0f }, splitRows[0], new Tolerance(1e-6f));
        }
        finally
        {
            Directory.Delete(directory, true);
        }
    }

    private sealed class Row
    {
        public string Text { get; set; } = "";
    }

    private sealed class Tolerance(float epsilon) : System.Collections.IComparer
    {
        public int Compare(object? x, object? y) => Math.Abs((float)x! - (float)y!) <= epsilon ? 0 : 1;
    }
}
