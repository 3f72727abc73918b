namespace Coherence.Tools;

/// <summary>One labelled row: the class label and the text.</summary>
internal sealed record LabeledRow(string Label, string Text);

/// <summary>
/// Reads headerless labelled TSV files: each line is <c>label&lt;TAB&gt;text</c>. Blank lines are skipped;
/// anything else that does not have a non-empty label, a tab and then text fails with the file name and
/// 1-based line number.
/// </summary>
internal static class LabeledTsv
{
    /// <summary>Reads and validates <paramref name="path"/>; <paramref name="displayName"/> names it in messages.</summary>
    public static List<LabeledRow> Read(string path, string? displayName = null)
    {
        var name = displayName ?? Path.GetFileName(path);
        if (!File.Exists(path))
        {
            throw new InputException($"{name}: file not found ({Path.GetFullPath(path)}).");
        }

        using var reader = new StreamReader(path);
        return Parse(reader, name);
    }

    /// <summary>Parses TSV text from <paramref name="reader"/>; <paramref name="name"/> names the source in messages.</summary>
    public static List<LabeledRow> Parse(TextReader reader, string name)
    {
        var rows = new List<LabeledRow>();
        var lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var tab = line.IndexOf('\t');
            if (tab <= 0 || string.IsNullOrWhiteSpace(line[..tab]) || string.IsNullOrWhiteSpace(line[(tab + 1)..]))
            {
                throw new InputException($"{name} line {lineNumber}: expected 'label<TAB>text'.");
            }

            rows.Add(new LabeledRow(line[..tab].Trim(), line[(tab + 1)..]));
        }

        if (rows.Count == 0)
        {
            throw new InputException($"{name}: the file is empty (expected lines of 'label<TAB>text').");
        }

        return rows;
    }

    /// <summary>Fails unless the training rows have at least two distinct labels.</summary>
    public static void RequireTwoClasses(IReadOnlyList<LabeledRow> rows, string name)
    {
        var labels = rows.Select(r => r.Label).Distinct(StringComparer.Ordinal).Take(2).ToList();
        if (labels.Count < 2)
        {
            throw new InputException($"{name}: every row has the label '{labels[0]}'; classification needs at least two classes.");
        }
    }

    /// <summary>Reads an unlabelled corpus: one document per non-blank line.</summary>
    public static List<string> ReadCorpus(string path, string? displayName = null)
    {
        var name = displayName ?? Path.GetFileName(path);
        if (!File.Exists(path))
        {
            throw new InputException($"{name}: file not found ({Path.GetFullPath(path)}).");
        }

        var lines = File.ReadLines(path).Where(l => !string.IsNullOrWhiteSpace(l)).ToList();
        if (lines.Count == 0)
        {
            throw new InputException($"{name}: the file is empty (expected one document per line).");
        }

        return lines;
    }
}
