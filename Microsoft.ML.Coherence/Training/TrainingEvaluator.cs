using Microsoft.ML.Coherence.Corpus;
using Microsoft.ML.Coherence.Modules;
using Microsoft.ML.Coherence.Statistics;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Training;

/// <summary>An evaluation step's figures (all null on other steps).</summary>
internal sealed record StepEvaluation(double? HeldOutPerplexity, double? MeanCoherence, double? Drift, double? HeldOutLabelAccuracy)
{
    public static readonly StepEvaluation None = new(null, null, null, null);
}


/// <summary>
/// The measurements of an evaluation step, read from the model without changing it: held-out perplexity (full softmax),
/// the label head's held-out accuracy, mean coherence and the drift since the previous evaluation.
/// </summary>
internal sealed class TrainingEvaluator(CoherenceLanguageModel model, CoherenceEmbeddingOptions options, Device device)
{
    private const int HeldOutMaxTokens = 50_000;
    private readonly CoherenceLanguageModel _model = model;
    private readonly CoherenceEmbeddingOptions _options = options;
    private readonly Device _device = device;

    // The embedding at the previous evaluation, for the drift.
    private float[]? _previousEmbedding;

    /// <summary>Forgets the previous evaluation's embedding (a new run of the loop has no drift at its first evaluation).</summary>
    public void Reset() => _previousEmbedding = null;

    /// <summary>Held-out perplexity, label accuracy, mean coherence and drift at an evaluation step.</summary>
    public StepEvaluation Evaluate(TokenCorpus heldOut, StatisticalField field, LabelHead? labelHead)
    {
        double? perplexity = heldOut.TokenCount >= 2 ? HeldOutPerplexity(heldOut) : null;
        double? labelAccuracy = labelHead?.HeldOutAccuracy(_model); // issue 10
        var embedding = CurrentEmbedding();
        var matrix = new Evaluation.EmbeddingMatrix(embedding, _model.Dimension);
        double coherence = Evaluation.DistributionSummary.Of(Evaluation.CoherenceScores.Compute(matrix, field.ToNeighbors())).Mean;
        double? drift = _previousEmbedding is null ? null
            : Evaluation.EmbeddingMetrics.Drift(matrix, new Evaluation.EmbeddingMatrix(_previousEmbedding, _model.Dimension));
        _previousEmbedding = embedding;
        return new StepEvaluation(perplexity, coherence, drift, labelAccuracy);
    }


    /// <summary>
    /// Held-out next-token perplexity with the full softmax over the vocabulary, in chunks of the context length.
    /// </summary>
    public double HeldOutPerplexity(TokenCorpus heldOut)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        _model.eval();
        var tokens = heldOut.Tokens;
        var table = _model.Embedding;
        var outputTable = _model.OutputTable();
        int time = (int)Math.Min(_options.ContextLength, tokens.Length - 1);
        int limit = Math.Min(tokens.Length, HeldOutMaxTokens);
        double nll = 0;
        long count = 0;
        const int ChunksPerBatch = 16;
        var ids = new List<long>();
        for (int start = 0; start + 1 < limit; start += time)
        {
            int length = Math.Min(time, limit - 1 - start);
            if (length < time)
                break;
            for (int t = 0; t <= time; t++)
                ids.Add(tokens[start + t]);
            if (ids.Count == ChunksPerBatch * (time + 1))
                Flush();
        }
        Flush();
        _model.train();
        return Evaluation.Perplexity.FromNegativeLogLikelihood(nll, count);

        void Flush()
        {
            if (ids.Count == 0)
                return;
            using var inner = torch.NewDisposeScope();
            int rows = ids.Count / (time + 1);
            var window = torch.tensor(ids.ToArray(), [rows, time + 1]).to(_device);
            var vectors = table.index_select(0, window.flatten()).view(rows, time + 1, _model.Dimension);
            var hidden = _model.Hidden(vectors).reshape(-1, _model.Dimension);
            var loss = NextTokenLoss.Full(hidden, outputTable, window[.., 1..].reshape(-1));
            nll += loss.item<float>() * rows * time;
            count += (long)rows * time;
            ids.Clear();
        }
    }

    public float[] CurrentEmbedding()
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        return Modules.CausalTransformerBlock.Values(_model.Embedding);
    }

}
