using System.Text;

namespace Coherence.Experiments;

/// <summary>
/// The text files fastText reads and the predictions it prints. The text is the stage's own tokens
/// (<c>CoherenceTokenizer</c>) joined by single spaces, so that fastText, which splits on whitespace, sees
/// exactly the tokens the stage sees (the stage's tokens never hold white space). Labels are written as <c>__label__&lt;index&gt;</c> into the harness'
/// sorted label list, so no label text can clash with fastText's syntax.
/// </summary>
internal static class FastTextFiles
{
    /// <summary>fastText's default label prefix.</summary>
    public const string LabelPrefix = "__label__";

    /// <summary>One document per line: its tokens joined by spaces (an empty line for a document without tokens).</summary>
    public static void WriteText(string path, IEnumerable<string[]> documents) =>
        Microsoft.ML.Coherence.Internal.AtomicFile.Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(false)) { NewLine = "\n" };
            foreach (var tokens in documents)
            {
                writer.WriteLine(string.Join(' ', tokens));
            }
        });

    /// <summary>One labelled document per line: <c>__label__&lt;label index&gt; token token ...</c>.</summary>
    public static void WriteLabelled(string path, IEnumerable<(int Label, string[] Tokens)> documents) =>
        Microsoft.ML.Coherence.Internal.AtomicFile.Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(false)) { NewLine = "\n" };
            foreach (var (label, tokens) in documents)
            {
                writer.Write(LabelPrefix);
                writer.Write(label);
                foreach (var t in tokens)
                {
                    writer.Write(' ');
                    writer.Write(t);
                }

                writer.WriteLine();
            }
        });

    /// <summary>
    /// Parses <c>fasttext predict</c> output (one <c>__label__&lt;index&gt;</c> line per test line) into label
    /// indices. Fails, naming the line, unless there are exactly <paramref name="expected"/> lines each naming
    /// a label index below <paramref name="labelCount"/>.
    /// </summary>
    public static int[] ParsePredictions(string output, int expected, int labelCount)
    {
        var lines = output.Split('\n');
        // A trailing newline leaves one empty entry at the end.
        var count = lines.Length > 0 && lines[^1].Length == 0 ? lines.Length - 1 : lines.Length;
        if (count != expected)
        {
            throw new InvalidOperationException($"fasttext predict printed {count} lines for {expected} test rows.");
        }

        var labels = new int[expected];
        for (var i = 0; i < expected; i++)
        {
            var line = lines[i].Trim();
            if (!line.StartsWith(LabelPrefix, StringComparison.Ordinal)
                || !int.TryParse(line.AsSpan(LabelPrefix.Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var label)
                || label >= labelCount)
            {
                throw new InvalidOperationException($"fasttext predict line {i + 1}: expected '{LabelPrefix}<index below {labelCount}>', got '{line}'.");
            }

            labels[i] = label;
        }

        return labels;
    }
}
