using Microsoft.ML.Coherence.Corpus;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.Extensions.AI;
using Microsoft.ML.Coherence.Text;
using Microsoft.ML.Coherence.Training;

namespace Microsoft.ML.Coherence.Distillation;

/// <summary>
/// Everything a fit takes from its <see cref="CoherenceEmbeddingOptions.Teacher"/>, asked for once before training: the
/// distilled starting table (the teacher embeds every vocabulary word) and, for row distillation, the teacher's vectors of
/// a seeded sample of training rows. Nothing is cached on disk.
/// </summary>
internal sealed class TeacherTargets
{
    private TeacherTargets(VocabularyDistillation vocabulary, LabelledDocument[] rows, TeacherVectors? rowVectors, double seconds, long texts)
    {
        Vocabulary = vocabulary;
        Rows = rows;
        RowVectors = rowVectors;
        Seconds = seconds;
        Texts = texts;
        Digest = ComputeDigest();
    }

    public VocabularyDistillation Vocabulary { get; }

    /// <summary>The sampled training rows: Document = index in the training corpus, Row = index in the data, Label = index in <see cref="RowVectors"/>.</summary>
    public LabelledDocument[] Rows { get; }

    /// <summary>The teacher's vectors of <see cref="Rows"/>; null when no row was sampled.</summary>
    public TeacherVectors? RowVectors { get; }

    /// <summary>Seconds spent in the teacher's calls.</summary>
    public double Seconds { get; }

    /// <summary>Texts the teacher embedded (vocabulary words and rows).</summary>
    public long Texts { get; }

    /// <summary>SHA-256 of everything taken from the teacher, for the checkpoint fingerprint.</summary>
    public string Digest { get; }

    /// <param name="teacher">The teacher.</param>
    /// <param name="vocabulary">The fit's vocabulary; ids 1..V-1 are embedded as words.</param>
    /// <param name="train">The training corpus.</param>
    /// <param name="isHeldOut">The held-out rule over data rows (training document i is the i-th row it keeps).</param>
    /// <param name="rowCount">Rows in the data (training and held-out documents).</param>
    /// <param name="rowTexts">Reads the text of the given data rows (ascending); null rebuilds it from the row's known tokens.</param>
    /// <param name="options">Resolved options.</param>
    /// <param name="seed">The run's seed.</param>
    /// <param name="log">Receives log lines.</param>
    /// <param name="cancellationToken">Stops the teacher's calls.</param>
    public static TeacherTargets Build(IEmbeddingGenerator<string, Embedding<float>> teacher, Vocabulary vocabulary, TokenCorpus train,
        Func<int, bool> isHeldOut, int rowCount, Func<IReadOnlyList<int>, IReadOnlyList<string>>? rowTexts, CoherenceEmbeddingOptions options,
        int seed, Action<string> log, CancellationToken cancellationToken)
    {
        var words = vocabulary.Tokens.Skip(1).ToArray();
        var wordVectors = TeacherCalls.Embed(teacher, words, options.TeacherBatchSize, "the vocabulary", 0, log, cancellationToken);
        var distilled = VocabularyDistillation.Fit(wordVectors, options.EmbeddingDimension, seed);
        log(string.Create(CultureInfo.InvariantCulture,
            $"Teacher: {words.Length:N0} vocabulary words embedded ({wordVectors.Dimension} values each) in {wordVectors.Seconds:F1}s; " +
            $"the starting table keeps {Math.Min(options.EmbeddingDimension, wordVectors.Dimension)} principal components ({distilled.ExplainedVariance:P1} of the variance)."));
        double seconds = wordVectors.Seconds;
        long texts = words.Length;
        LabelledDocument[] rows = [];
        TeacherVectors? rowVectors = null;
        if (options.TeacherTrainsRows)
        {
            rows = SampleRows(train, isHeldOut, rowCount, options.TeacherRowSample, seed);
            if (rows.Length > 0)
            {
                var text = rowTexts?.Invoke(rows.Select(r => r.Row).ToArray()) ?? rows.Select(r => KnownTokens(train, vocabulary, r.Document)).ToArray();
                if (text.Count != rows.Length)
                    throw new InvalidOperationException($"Read {text.Count} row texts for {rows.Length} sampled rows.");
                rowVectors = TeacherCalls.Embed(teacher, text, options.TeacherBatchSize, "the sampled training rows", wordVectors.Dimension, log, cancellationToken);
                seconds += rowVectors.Seconds;
                texts += rows.Length;
            }
            log(string.Create(CultureInfo.InvariantCulture,
                $"Teacher: {rows.Length:N0} training rows embedded for row distillation (weight {options.TeacherRowWeight}) in {rowVectors?.Seconds ?? 0:F1}s."));
        }
        return new TeacherTargets(distilled, rows, rowVectors, seconds, texts);
    }

    /// <summary>
    /// A seeded sample of at most <paramref name="cap"/> training documents with a known word, in row order; Label numbers them.
    /// </summary>
    internal static LabelledDocument[] SampleRows(TokenCorpus train, Func<int, bool> isHeldOut, int rowCount, int cap, int seed)
    {
        var candidates = new List<(int Document, int Row)>();
        int document = 0;
        for (int row = 0; row < rowCount && document < train.DocumentCount; row++)
        {
            if (isHeldOut(row))
                continue;
            foreach (int id in train.Document(document))
                if (id != Text.Vocabulary.UnknownId)
                {
                    candidates.Add((document, row));
                    break;
                }
            document++;
        }
        var random = new Random(seed ^ 0x5A3B1E);
        int take = Math.Min(cap, candidates.Count);
        for (int i = 0; i < take; i++)
        {
            int j = random.Next(i, candidates.Count);
            (candidates[i], candidates[j]) = (candidates[j], candidates[i]);
        }
        return candidates.Take(take).OrderBy(c => c.Row).Select((c, i) => new LabelledDocument(c.Document, c.Row, i)).ToArray();
    }

    private static string KnownTokens(TokenCorpus train, Vocabulary vocabulary, int document)
    {
        var words = new List<string>();
        foreach (int id in train.Document(document))
            if (id != Text.Vocabulary.UnknownId)
                words.Add(vocabulary.Tokens[id]);
        return string.Join(' ', words);
    }

    private string ComputeDigest()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(MemoryMarshal.AsBytes(Vocabulary.Table.AsSpan()));
        if (RowVectors is not null)
            hash.AppendData(MemoryMarshal.AsBytes(RowVectors.Values.AsSpan()));
        foreach (var row in Rows)
            hash.AppendData(BitConverter.GetBytes(row.Row));
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
