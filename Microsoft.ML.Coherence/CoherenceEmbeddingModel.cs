using Microsoft.ML.Coherence.Modules;
using Microsoft.ML.Coherence.Scoring;
using Microsoft.ML.Coherence.Statistics;
using Microsoft.ML.Coherence.Text;
using Microsoft.ML.Coherence.Training;

namespace Microsoft.ML.Coherence;

/// <summary>
/// The result of coherence training, without TorchSharp: the vocabulary, the statistical field,
/// the trained weights and the report.
/// </summary>
public sealed class CoherenceEmbeddingModel
{
    internal CoherenceEmbeddingModel(Vocabulary vocabulary, StatisticalField field, CoherenceEncoderWeights weights, CoherenceTrainingReport report)
    {
        Vocabulary = vocabulary;
        Field = field;
        Weights = weights;
        Report = report;
    }

    /// <summary>The trained vocabulary; id 0 is the unknown token.</summary>
    public Vocabulary Vocabulary { get; }

    /// <summary>The corpus statistics (PPMI neighbours) the coherence terms aligned to.</summary>
    public StatisticalField Field { get; }

    /// <summary>What the run did and measured.</summary>
    public CoherenceTrainingReport Report { get; }

    internal CoherenceEncoderWeights Weights { get; }

    /// <summary>Embedding dimension d.</summary>
    public int Dimension => Weights.Dimension;

    /// <summary>A copy of the token embedding matrix, row-major [vocabulary size, d].</summary>
    public float[] GetEmbeddingMatrix() => (float[])Weights.Embeddings.Clone();

    /// <summary>The embedding of one token id.</summary>
    public ReadOnlySpan<float> GetEmbedding(int id)
    {
        if ((uint)id >= (uint)Vocabulary.Count)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"Token id must be 0..{Vocabulary.Count - 1}.");
        return Weights.Embeddings.AsSpan(id * Dimension, Dimension);
    }

    /// <summary>Writes the embeddings in word2vec text format (atomically: an existing file is replaced whole or not at all).</summary>
    /// <param name="path">The file to write.</param>
    public void ExportWord2Vec(string path) => EmbeddingExport.WriteWord2Vec(path, Vocabulary.Tokens, Weights.Embeddings, Dimension);

    /// <summary>
    /// Saves the whole model (vocabulary, statistical field, trained weights, report) to one file, atomically: an existing
    /// file is replaced whole or not at all. <see cref="Load"/> reads it back in any process, without TorchSharp, for
    /// <see cref="CoherenceEmbeddingTransformer.FromModel"/> or the exports. The report keeps every option but
    /// <see cref="CoherenceEmbeddingOptions.Teacher"/>, an object of the application's.
    /// </summary>
    /// <param name="path">The file to write (a zip archive).</param>
    public void Save(string path) => ModelArchive.Write(path, this);

    /// <summary>Reads a model written by <see cref="Save"/>.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The model.</returns>
    /// <exception cref="InvalidDataException">The file is damaged, or not a model this version can read; the message names it.</exception>
    public static CoherenceEmbeddingModel Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return ModelArchive.Read(path);
    }

    /// <summary>Writes the embeddings as a safetensors file with one F32 tensor "embeddings" [V, d] and the vocabulary in its metadata.</summary>
    /// <param name="path">The file to write.</param>
    public void ExportSafetensors(string path) => EmbeddingExport.WriteSafetensors(path, Vocabulary.Tokens, Weights.Embeddings, Dimension);
}
