using Microsoft.ML.Coherence.Corpus;
using Microsoft.ML.Coherence.Internal;
using Microsoft.ML.Coherence.Modules;
using Microsoft.ML.Coherence.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Distillation;

/// <summary>
/// Row distillation, L_rows = mean over a batch of sampled training rows of 1 − cos(A·m + b, y): m is the row's mean word
/// vector (the stage's feature in static mode with Mean pooling), y the teacher's vector of the row's text, and A [t, d],
/// b [t] a linear map that is trained with the term and dropped after training. A starts as the back-projection of the
/// vocabulary distillation (the principal directions over the table's scale) and b as the teacher's mean word vector, so at
/// step 0 A·m + b is the mean of the row's words' teacher vectors as the PCA keeps them. The gradient reaches the word
/// vectors through <see cref="CoherenceLanguageModel.Rows(long[])"/>, as the label term's does.
/// </summary>
internal sealed class TeacherRowHead : IDocumentTerm
{
    /// <summary>Passes over the sampled rows that the term makes in a run (the batch is sized from it, as the label term's is).</summary>
    internal static float Passes { get; set; } = 4f;

    private readonly Parameter _map;
    private readonly Parameter _bias;
    private readonly Tensor _targets;
    private readonly SafeAdamW _optimizer;
    private readonly TokenCorpus _train;
    private readonly LabelledDocument[] _rows;
    private readonly int _batchSize;
    private readonly int _seed;

    /// <param name="rows">The sampled rows (Label = the row's index in <paramref name="targets"/>).</param>
    /// <param name="targets">The teacher's vectors of those rows.</param>
    /// <param name="vocabulary">The vocabulary distillation whose back-projection starts the map.</param>
    /// <param name="train">The training corpus the rows index.</param>
    /// <param name="device">The training device.</param>
    /// <param name="options">Resolved options (steps, learning rate, weight).</param>
    /// <param name="seed">The run's seed.</param>
    public TeacherRowHead(LabelledDocument[] rows, TeacherVectors targets, VocabularyDistillation vocabulary, TokenCorpus train, Device device,
        CoherenceEmbeddingOptions options, int seed)
    {
        _rows = rows;
        _train = train;
        _seed = seed;
        Weight = options.TeacherRowWeight;
        int steps = Math.Max(1, options.Steps ?? 1);
        _batchSize = DocumentPooling.BatchSize(Passes, rows.Length, steps, max: 4096);
        int t = targets.Dimension, d = vocabulary.Dimension;
        _map = nn.Parameter(tensor(BackProjection(vocabulary), [t, d], device: device));
        _bias = nn.Parameter(tensor(vocabulary.Mean, [t], device: device));
        _targets = tensor(targets.Values, [targets.Count, t], device: device);
        _optimizer = new SafeAdamW([_map, _bias], options.LearningRate, options.WeightDecay);
    }

    public float Weight { get; }

    public double? LastLoss { get; private set; }

    /// <summary>Rows drawn per step.</summary>
    public int BatchSize => _batchSize;

    /// <summary>Aᵀ = components / scale, [t, d] row-major: column c of A is principal direction c over the table's scale.</summary>
    private static float[] BackProjection(VocabularyDistillation vocabulary)
    {
        int t = vocabulary.TeacherDimension, d = vocabulary.Dimension, k = vocabulary.Components.Length / t;
        var map = new float[t * d];
        for (int c = 0; c < k; c++)
            for (int j = 0; j < t; j++)
                map[(j * d) + c] = vocabulary.Components[(c * t) + j] / vocabulary.Scale;
        return map;
    }

    public Tensor? Loss(CoherenceLanguageModel model, int step)
    {
        if (_rows.Length == 0)
            return null;
        var batch = LabelBatch.Create(_train, DocumentPooling.Draw(_rows, _batchSize, _seed ^ 0x7EAC4, step));
        var device = _map.device;
        var predicted = DocumentPooling.MeanWords(model, batch, device).matmul(_map.t()).Plus(_bias);   // [B, t]
        var target = _targets.index_select(0, tensor(batch.Labels).to(device));
        return nn.functional.cosine_similarity(predicted, target, dim: 1).mean().Times(-1).Plus(1);
    }

    public void Step(double learningRate, Tensor? loss)
    {
        if (loss is not null)
            LastLoss = loss.item<float>();
        _optimizer.LearningRate = learningRate;
        _optimizer.Step();
        _optimizer.ZeroGrad();
    }

    public void ZeroGrad() => _optimizer.ZeroGrad();

    public void Dispose()
    {
        _optimizer.Dispose();
        _targets.Dispose();
        _map.Dispose();
        _bias.Dispose();
    }
}
