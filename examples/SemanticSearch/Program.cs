// Semantic search: train the stage on a collection of documents (no labels), use it through the .NET embedding
// interface (IEmbeddingGenerator<string, Embedding<float>>, from Microsoft.Extensions.AI) to embed the collection and a
// few queries, and rank by cosine similarity; next to the same search over FeaturizeText vectors and over the stage's
// baseline (both coherence weights 0). The labels are used only to score the search: a hit is relevant when it has the
// query's label (Brown: genre; WordNet: lexicographer file), giving precision@10 and the mean reciprocal rank (MRR) of
// the first relevant hit over every test row used as a query.
// Usage: dotnet run -c Release --project examples/SemanticSearch -- [data folder with train.tsv, test.tsv] [seed] [query...]
//        (default: data/sample/brown, seed 1, and three example queries)
using System.Diagnostics;
using Microsoft.Extensions.AI;
using Microsoft.ML;
using Microsoft.ML.Coherence;

string root = ExampleSupport.FindRoot();
string folder = args.Length > 0 ? Path.GetFullPath(args[0], root) : Path.Combine(root, "data/sample/brown");
int seed = args.Length > 1 ? int.Parse(args[1]) : 1;
string[] queries = args.Length > 2 ? args[2..] : ["the jury heard the case in court", "a recipe for baking bread at home", "the space ship landed on a strange planet"];

var ml = new MLContext(seed: seed);
var documents = Read(Path.Combine(folder, "train.tsv"));
var tests = Read(Path.Combine(folder, "test.tsv"));
var collection = ml.Data.LoadFromEnumerable(documents);
Console.WriteLine($"{documents.Count:N0} documents and {tests.Count:N0} test queries from {Path.GetRelativePath(root, folder)}; seed {seed}");

// Three generators over the same documents: the stage (defaults), its baseline, and FeaturizeText through the same interface.
var options = new CoherenceEmbeddingOptions { Seed = seed };
using var stage = ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", options).Fit(collection);
using var baseline = ml.Transforms.Text.CoherenceEmbeddings("Features", "Text", options.AsBaseline()).Fit(collection);
var featurizeText = ml.Transforms.Text.FeaturizeText("Features", "Text").Fit(collection);
var generators = new (string Name, IEmbeddingGenerator<string, Embedding<float>> Generator)[]
{
    ("coherence embeddings", stage.AsEmbeddingGenerator()),
    ("baseline (weights 0)", baseline.AsEmbeddingGenerator()),
    ("FeaturizeText", CoherenceEmbeddingGenerator.Create(featurizeText, "Features", "Text", modelId: "featurize-text")),
};

string[] documentTexts = documents.Select(d => d.Text).ToArray();
string[] testTexts = tests.Select(t => t.Text).ToArray();
var labels = documents.Select(d => d.Label).ToArray();
var rows = new List<(string Name, double Precision, double Mrr, double RowsPerSecond)>();
var indexes = new Dictionary<string, float[][]>();
foreach (var (name, generator) in generators)
{
    await generator.GenerateAsync(documentTexts.Take(50)); // warm-up (JIT, first ONNX run), not timed
    var clock = Stopwatch.StartNew();
    float[][] index = Normalized(await generator.GenerateAsync(documentTexts));
    double rate = documentTexts.Length / clock.Elapsed.TotalSeconds;
    float[][] asked = Normalized(await generator.GenerateAsync(testTexts));
    double precision = 0, mrr = 0;
    for (int q = 0; q < asked.Length; q++)
    {
        int[] ranking = Rank(index, asked[q]);
        precision += ranking.Take(10).Count(i => labels[i] == tests[q].Label) / 10.0;
        int first = Array.FindIndex(ranking, i => labels[i] == tests[q].Label);
        mrr += first < 0 ? 0 : 1.0 / (first + 1);
    }
    rows.Add((name, precision / asked.Length, mrr / asked.Length, rate));
    indexes[name] = index;
}

// What chance gives: the share of documents with the query's label.
double chance = tests.Average(t => labels.Count(l => l == t.Label) / (double)labels.Length);
Console.WriteLine();
Console.WriteLine($"{"search over",-22} {"precision@10",12} {"MRR",7} {"embed rows/s",13}");
foreach (var (name, precision, mrr, rate) in rows)
    Console.WriteLine($"{name,-22} {precision,12:F4} {mrr,7:F4} {rate,13:N0}");
Console.WriteLine($"{"chance",-22} {chance,12:F4}");

// A few queries of your own: the top three documents from the stage and from FeaturizeText.
foreach (string query in queries)
{
    Console.WriteLine();
    Console.WriteLine($"query: \"{query}\"");
    foreach (var (name, generator) in new[] { generators[0], generators[2] })
    {
        float[] vector = Normalized(await generator.GenerateAsync([query]))[0];
        foreach (int i in Rank(indexes[name], vector).Take(3))
            Console.WriteLine($"  {name,-20} [{labels[i]}] {Shorten(documentTexts[i], 90)}");
    }
}

// The stage must find same-label documents clearly more often than chance (CI runs this example on the sample).
return rows[0].Precision > chance * 1.2 ? 0 : 1;

static List<Document> Read(string path) =>
    File.ReadLines(path).Select(line => line.Split('\t', 2)).Select(p => new Document { Label = p[0], Text = p[1] }).ToList();

static float[][] Normalized(GeneratedEmbeddings<Embedding<float>> embeddings) => embeddings.Select(e =>
{
    float[] v = e.Vector.ToArray();
    double norm = Math.Sqrt(v.Sum(x => (double)x * x));
    return norm == 0 ? v : v.Select(x => (float)(x / norm)).ToArray(); // a row with no known word stays zero: similarity 0
}).ToArray();

// Document indices by cosine similarity to the query, best first (ties by index, so runs repeat exactly).
static int[] Rank(float[][] index, float[] query) => Enumerable.Range(0, index.Length)
    .Select(i => (Index: i, Score: Dot(index[i], query))).OrderByDescending(p => p.Score).ThenBy(p => p.Index).Select(p => p.Index).ToArray();

static double Dot(float[] a, float[] b)
{
    double sum = 0;
    for (int i = 0; i < a.Length; i++)
        sum += a[i] * b[i];
    return sum;
}

static string Shorten(string text, int length) => text.Length <= length ? text : text[..(length - 3)] + "...";

internal sealed class Document
{
    public string Label { get; set; } = "";
    public string Text { get; set; } = "";
}
