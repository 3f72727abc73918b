using Microsoft.ML.Coherence.Internal;

namespace Microsoft.ML.Coherence.Statistics;

/// <summary>The counts' versioned binary format.</summary>
internal sealed partial class CooccurrenceCounts
{
    private const int FormatMagic = 0x434F4343; // "CCOC"
    private const int FormatVersion = 1;

    /// <summary>Writes the counts in a versioned binary format; rows and columns in ascending order, so equal counts give equal bytes.</summary>
    /// <param name="stream">A writable stream; left open.</param>
    internal void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        FormatHeader.Write(writer, FormatMagic, FormatVersion);
        writer.Write(VocabularySize);
        writer.Write(Window);
        writer.Write(TokensCounted);
        writer.Write(DocumentsCounted);
        var index = GetRowIndex();
        var nonEmptyRows = 0;
        for (var i = 0; i < VocabularySize; i++)
        {
            nonEmptyRows += index.Starts[i + 1] > index.Starts[i] ? 1 : 0;
        }
        writer.Write(nonEmptyRows);
        for (var i = 0; i < VocabularySize; i++)
        {
            var (start, end) = (index.Starts[i], index.Starts[i + 1]);
            if (end == start)
            {
                continue;
            }
            writer.Write(i);
            writer.Write(end - start);
            for (var k = start; k < end; k++)
            {
                writer.Write(index.Columns[k]);
                writer.Write(index.Values[k]);
            }
        }
    }

    /// <summary>Reads counts written by <see cref="Save"/>.</summary>
    /// <param name="stream">A readable stream; left open.</param>
    /// <returns>The counts.</returns>
    /// <exception cref="InvalidDataException">The stream does not hold counts of a known version.</exception>
    internal static CooccurrenceCounts Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var reader = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        const string What = "Coherence co-occurrence counts";
        FormatHeader.Read(reader, FormatMagic, FormatVersion, What);
        var vocabularySize = reader.ReadInt32();
        var window = reader.ReadInt32();
        if (vocabularySize < 2 || window < 1 || window > MaxWindow)
        {
            CoherenceThrow.InvalidData(What, $"VocabularySize {vocabularySize} or Window {window} is out of range.");
        }
        var counts = new CooccurrenceCounts(vocabularySize, window)
        {
            TokensCounted = reader.ReadInt64(),
            DocumentsCounted = reader.ReadInt64(),
        };
        var nonEmptyRows = reader.ReadInt32();
        var previousRow = -1;
        for (var r = 0; r < nonEmptyRows; r++)
        {
            var i = reader.ReadInt32();
            var entries = reader.ReadInt32();
            if (i <= previousRow || i >= vocabularySize || entries < 1 || entries > vocabularySize)
            {
                CoherenceThrow.InvalidData(What, $"row {i} with {entries} entries is out of range or out of order.");
            }
            previousRow = i;
            var previousColumn = -1;
            for (var e = 0; e < entries; e++)
            {
                var j = reader.ReadInt32();
                var count = reader.ReadInt64();
                if (j <= previousColumn || j >= vocabularySize || count <= 0)
                {
                    CoherenceThrow.InvalidData(What, $"entry ({i}, {j}) = {count} is out of range or out of order.");
                }
                previousColumn = j;
                counts._pairs!.Add(PairCountTable.Key(i, j), count);
                counts._rowSums[i] += count;
            }
            counts._total += counts._rowSums[i];
        }
        return counts;
    }
}
