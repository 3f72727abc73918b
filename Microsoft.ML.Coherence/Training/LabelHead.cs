using Microsoft.ML.Coherence.Corpus;
using Microsoft.ML.Coherence.Internal;
using Microsoft.ML.Coherence.Modules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Training;

/// <summary>
/// L_label, fastText-supervised style: a linear softmax head (W [C, d], b [C], both starting at 0 as fastText's output
/// matrix does) on the mean word vector of each labelled document, cross-entropy against its class. The word vectors are
/// the language model's <see cref="CoherenceLanguageModel.Rows(long[])"/>, so the gradient reaches the embedding table,
/// which the trainer's optimiser updates; the head's own parameters have their own AdamW at the trainer's
/// learning rate. Each step draws <see cref="CoherenceEmbeddingOptions.LabelBatchSize"/> documents with replacement from
/// the labelled training documents with a <see cref="Random"/> seeded by (seed, step), so runs repeat and resume alike.
/// The head is training-only: it is not exported and not part of the fitted stage.
/// </summary>
internal sealed class LabelHead : IDocumentTerm
{
    private const int EvaluationChunk = 256;

    private readonly Parameter _weight;
    private readonly Parameter _bias;
    private readonly SafeAdamW _optimizer;
    private readonly TokenCorpus _train;
    private readonly int _batchSize;
    private readonly int _seed;

    public LabelHead(LabelledDocuments documents, TokenCorpus train, int dimension, Device device, CoherenceEmbeddingOptions options, int seed)
    {
        Documents = documents;
        _train = train;
        _batchSize = options.LabelBatchSize ?? throw new InvalidOperationException("LabelBatchSize must be resolved before the head is built.");
        _seed = seed;
        Weight = options.LabelWeight;
        int classes = Math.Max(1, documents.ClassCount);
        _weight = nn.Parameter(torch.zeros(classes, dimension, device: device));
        _bias = nn.Parameter(torch.zeros(classes, device: device));
        _optimizer = new SafeAdamW([_weight, _bias], options.LearningRate, options.WeightDecay);
    }

    public LabelledDocuments Documents { get; }

    /// <summary>lambda_label (<see cref="CoherenceEmbeddingOptions.LabelWeight"/>).</summary>
    public float Weight { get; }

    /// <summary>The label loss of the last step whose losses were read, in nats.</summary>
    public double? LastLoss { get; private set; }

    /// <summary>Test seam: sees, at each step, the documents fed to the label loss.</summary>
    internal Action<int, IReadOnlyList<LabelledDocument>>? OnBatch { get; set; }

    /// <summary>
    /// This step's L_label (a scalar in the caller's dispose scope), or null when there is no labelled training document.
    /// </summary>
    public Tensor? Loss(CoherenceLanguageModel model, int step)
    {
        if (Documents.Training.Length == 0)
            return null;
        var drawn = DocumentPooling.Draw(Documents.Training, _batchSize, _seed ^ 0x1ABE1, step);
        OnBatch?.Invoke(step, drawn);
        var batch = LabelBatch.Create(_train, drawn);
        return nn.functional.cross_entropy(Logits(model, batch), torch.tensor(batch.Labels).to(_weight.device));
    }

    /// <summary>Logits [B, C] of a batch: W · mean of its word vectors + b.</summary>
    private Tensor Logits(CoherenceLanguageModel model, LabelBatch batch) =>
        DocumentPooling.MeanWords(model, batch, _weight.device).matmul(_weight.t()).Plus(_bias);               // [B, C]

    /// <summary>After the trainer's optimiser step: the head's own AdamW step at <paramref name="learningRate"/>, then zero_grad.</summary>
    /// <param name="learningRate">The step's learning rate.</param>
    /// <param name="loss">This step's label loss when the trainer reads its losses (one sync), else null.</param>
    public void Step(double learningRate, Tensor? loss)
    {
        if (loss is not null)
            LastLoss = loss.item<float>();
        _optimizer.LearningRate = learningRate;
        _optimizer.Step();
        _optimizer.ZeroGrad();
    }

    public void ZeroGrad() => _optimizer.ZeroGrad();

    /// <summary>The head's accuracy on the held-out labelled documents, or null when none is held out.</summary>
    public double? HeldOutAccuracy(CoherenceLanguageModel model)
    {
        if (Documents.HeldOut.Length == 0)
            return null;
        using var noGrad = torch.no_grad();
        int correct = 0;
        for (int start = 0; start < Documents.HeldOut.Length; start += EvaluationChunk)
        {
            using var scope = torch.NewDisposeScope();
            var chunk = new ArraySegment<LabelledDocument>(Documents.HeldOut, start, Math.Min(EvaluationChunk, Documents.HeldOut.Length - start));
            var batch = LabelBatch.Create(_train, chunk);
            var predicted = Logits(model, batch).argmax(1).cpu().data<long>().ToArray();
            for (int i = 0; i < predicted.Length; i++)
                if (predicted[i] == batch.Labels[i])
                    correct++;
        }
        return (double)correct / Documents.HeldOut.Length;
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        _weight.Dispose();
        _bias.Dispose();
    }
}
