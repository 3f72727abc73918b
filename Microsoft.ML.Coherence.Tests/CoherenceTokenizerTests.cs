using Microsoft.ML.Coherence.Text;
using Microsoft.ML.Data;

namespace Microsoft.ML.Coherence.Tests;

[TestClass]
public sealed class CoherenceTokenizerTests
{
    private const string Sentence = "Hello, World! The CAFÉ costs 3.50 dollars.";

    [TestMethod]
    public void TokensAreLowerCaseWithoutDiacriticsAndPunctuationSplitOff()
    {
        var tokenizer = new CoherenceTokenizer(new MLContext(seed: 1));
        var tokens = tokenizer.Tokenize([Sentence, "", "\"Quoted\" e-mail: user@example.com — ok…"]).ToArray();

        CollectionAssert.AreEqual(new[] { "hello", "world", "the", "cafe", "costs", "3", "50", "dollars" }, tokens[0]);
        Assert.IsEmpty(tokens[1]);
        CollectionAssert.AreEqual(new[] { "quoted", "e", "mail", "user", "example", "com", "ok" }, tokens[2]);
    }

    [TestMethod]
    [DataRow(true)]
    [DataRow(false)]
    public void LongRowsCutIntoPiecesGiveTheSameTokensAsWholeRows(bool splitPunctuation)
    {
        // Rows far longer than a 40-character limit, with what could go wrong at a cut: punctuation next to white space,
        // runs of spaces, tabs and line breaks, diacritics, a surrogate pair, and a run of 90 characters with no white space.
        var random = new Random(3);
        string[] words = ["Hello,", "WORLD!", "café", "naïve", "3.50", "e-mail", "🙂ok", "a", "\"quoted\"", "end."];
        string[] gaps = [" ", "  ", "\t", "\n", " \n ", "\r\n"];
        var rows = Enumerable.Range(0, 12).Select(r => string.Concat(Enumerable.Range(0, 20 + 15 * r)
            .Select(i => words[random.Next(words.Length)] + gaps[random.Next(gaps.Length)]))).ToList();
        rows.Add(new string('x', 90) + " tail");
        rows.Add("");
        rows.Add("short row");
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(rows.Select(t => new TestData.SampleData.Row { Text = t }));
        var tokenizer = new CoherenceTokenizer(ml, splitPunctuation);

        var whole = tokenizer.Tokenize(data, "Text").ToList();
        var documents = new List<List<string>>();
        int pieces = 0;
        foreach (var piece in tokenizer.TokenizeToPieces(data, "Text", maxPieceCharacters: 40))
        {
            pieces++;
            if (!piece.ContinuesDocument)
                documents.Add([]);
            documents[^1].AddRange(piece.Tokens.GetValues().ToArray().Select(t => t.ToString()));
        }

        Assert.IsGreaterThan(rows.Count * 3, pieces, "the long rows were cut");
        Assert.HasCount(whole.Count, documents);
        for (int r = 0; r < whole.Count; r++)
            CollectionAssert.AreEqual(whole[r], documents[r], $"row {r}");
    }

    [TestMethod]
    public void WithoutPunctuationSplittingPunctuationStaysAttached()
    {
        var tokens = new CoherenceTokenizer(new MLContext(seed: 1), splitPunctuation: false).Tokenize([Sentence]).Single();
        CollectionAssert.AreEqual(new[] { "hello,", "world!", "the", "cafe", "costs", "3.50", "dollars." }, tokens);
    }

    [TestMethod]
    [DataRow(true)]
    [DataRow(false)]
    public void NoTokenHoldsWhiteSpaceOrAControlCharacter(bool splitPunctuation)
    {
        string[] documents =
        [
            "tab\tseparated\nlines\r\nand\u0001control\u007Fchars\u0085next", "no\u00A0break\u2028line\u2029para\u200Bzero\uFEFFbom\u3000wide",
            "日本語 テキスト 😀 emoji\tmix", new string('x', 5) + "\v\f" + "end",
        ];
        var rows = new CoherenceTokenizer(new MLContext(seed: 1), splitPunctuation).Tokenize(documents).ToArray();
        var all = rows.SelectMany(row => row).ToArray();
        Assert.IsTrue(all.All(token => token.Length > 0 && !token.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '\u200B' or '\uFEFF')),
            string.Join(" | ", all.Select(t => string.Join(",", t.Select(c => ((int)c).ToString("X4"))))));
        CollectionAssert.AreEqual(new[] { "tab", "separated", "lines", "and", "control", "chars", "next" }, rows[0]);
        CollectionAssert.Contains(rows[2], "😀");
        CollectionAssert.Contains(rows[2], "日本語");
    }

    [TestMethod]
    public void WithoutPunctuationSplittingTokensEqualMLNetDefaultTransformsOnSpaceSeparatedText()
    {
        // The reference uses ML.NET's default arguments: this fails if our normalisation constants drift from them.
        // (On text with tabs or newlines ours differs on purpose: those always separate words.)
        var mlContext = new MLContext(seed: 1);
        string[] documents = [Sentence, "  Two  spaces and a space ", "Ça, c'est l'été: 42°C!"];
        var data = mlContext.Data.LoadFromEnumerable(documents.Select(text => new TextRow { Body = text }));
        var reference = mlContext.Transforms.Text.NormalizeText("Normalized", nameof(TextRow.Body))
            .Append(mlContext.Transforms.Text.TokenizeIntoWords("Tokens", "Normalized"))
            .Fit(data).Transform(data);
        var expected = reference.GetColumn<VBuffer<ReadOnlyMemory<char>>>("Tokens")
            .Select(row => row.DenseValues().Select(token => token.ToString()).ToArray()).ToArray();

        var actual = new CoherenceTokenizer(mlContext, splitPunctuation: false).Tokenize(data, nameof(TextRow.Body)).ToArray();

        Assert.HasCount(expected.Length, actual);
        for (var row = 0; row < expected.Length; row++)
        {
            CollectionAssert.AreEqual(expected[row], actual[row], $"row {row}");
        }
    }

    [TestMethod]
    public void EstimatorChainWritesTheSameTokens()
    {
        var mlContext = new MLContext(seed: 1);
        var data = mlContext.Data.LoadFromEnumerable(new[] { new TextRow { Body = Sentence } });
        var tokenizer = new CoherenceTokenizer(mlContext);
        var transformed = tokenizer.CreateEstimator("Tokens", nameof(TextRow.Body)).Fit(data).Transform(data);
        var tokens = transformed.GetColumn<VBuffer<ReadOnlyMemory<char>>>("Tokens").Single();

        CollectionAssert.AreEqual(tokenizer.Tokenize([Sentence]).Single(), tokens.DenseValues().Select(t => t.ToString()).ToArray());
    }

    [TestMethod]
    public void RowsStreamInOrder()
    {
        // Many rows, so that ML.NET's parallel cursor would show any reordering.
        var documents = Enumerable.Range(0, 20_000).Select(i => $"Row{i} x").ToArray();
        var tokens = new CoherenceTokenizer(new MLContext(seed: 1)).Tokenize(documents).ToArray();

        Assert.HasCount(documents.Length, tokens);
        for (var i = 0; i < documents.Length; i++)
        {
            Assert.AreEqual($"row{i}", tokens[i][0]);
        }
    }

    [TestMethod]
    public void NullRowThrowsNamingItsIndex()
    {
        var tokenizer = new CoherenceTokenizer(new MLContext(seed: 1));
        var exception = Assert.ThrowsExactly<ArgumentException>(() => tokenizer.Tokenize(["a", "b", null, "c"]).ToArray());
        Assert.AreEqual("documents", exception.ParamName);
        Assert.Contains("Row 2 of the corpus is null", exception.Message);
    }

    [TestMethod]
    public void MissingColumnThrows()
    {
        var mlContext = new MLContext(seed: 1);
        var data = mlContext.Data.LoadFromEnumerable(new[] { new TextRow { Body = "x" } });
        var exception = Assert.ThrowsExactly<ArgumentException>(() => new CoherenceTokenizer(mlContext).Tokenize(data, "Text"));
        Assert.AreEqual("textColumn", exception.ParamName);
        Assert.Contains("Could not find input column 'Text'", exception.Message);
    }

    [TestMethod]
    public void NonTextColumnThrows()
    {
        var mlContext = new MLContext(seed: 1);
        var data = mlContext.Data.LoadFromEnumerable(new[] { new NumberRow { Value = 1 } });
        var exception = Assert.ThrowsExactly<ArgumentException>(() => new CoherenceTokenizer(mlContext).Tokenize(data, nameof(NumberRow.Value)));
        Assert.AreEqual("textColumn", exception.ParamName);
        Assert.Contains("Schema mismatch for input column 'Value': expected String, got Single", exception.Message);
    }

    private sealed class TextRow
    {
        public string Body { get; set; } = "";
    }

    private sealed class NumberRow
    {
        public float Value { get; set; }
    }
}
