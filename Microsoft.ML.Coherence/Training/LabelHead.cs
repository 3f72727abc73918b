using Microsoft.ML.Coherence.Internal;
using Microsoft.ML.Coherence.Modules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Training;

/// <summary>
/// L_label, fastText-supervised style: a linear softmax head (W [C, d], b [C], both starting at 0 as fastText's output
/// matrix does) on the mean word vector of each labelled document, cross-entropy against its class. The word vectors are
/// the language model's <see cref="CoherenceLanguageModel.Rows(long[])"/>, so the gradient reaches the embedding (and subword)
/// table, which the trainer's optimiser updates; the head's own parameters have their own AdamW at the trainer's
/// learning rate. Each step draws <see cref="CoherenceEmbeddingOptions.LabelBatchSize"/> documents with replacement from
/// the labelled training documents with a <see cref="Random"/> seeded by (seed, step), so runs repeat and resume alike.
/// The head is training-only: it is not exported and not part of the fitted stage.
/// </summary>
internal sealed class LabelHead : IDisposable
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
        _batchSize = options.LabelBatchSize;
        _seed = seed;
        int classes = Math.Max(1, documents.ClassCount);
        _weight = nn.Parameter(torch.zeros(classes, dimension, device: device));
        _bias = nn.Parameter(torch.zeros(classes, device: device));
        _optimizer = new SafeAdamW([_weight, _bias], options.LearningRate, options.WeightDecay);
    }

    public LabelledDocuments Documents { get; }

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
        var random = SplitMix.ForStep(_seed ^ 0x1ABE1, step);
        var drawn = new LabelledDocument[_batchSize];
        for (int i = 0; i < drawn.Length; i++)
            drawn[i] = Documents.Training[random.Next(Documents.Training.Length)];
        OnBatch?.Invoke(step, drawn);
        var batch = LabelBatch.Create(_train, drawn);
        return nn.functional.cross_entropy(Logits(model, batch), torch.tensor(batch.Labels).to(_weight.device));
    }

    /// <summary>Logits [B, C] of a batch: W · mean word vector + b.</summary>
    private Tensor Logits(CoherenceLanguageModel model, LabelBatch batch)
    {
        var device = _weight.device;
        var features = torch.zeros(batch.DocumentCount, model.Dimension, device: device);              // [B, d]
        if (batch.DistinctIds.Length > 0)
        {
            var table = model.Rows(batch.DistinctIds);                                                  // [U, d]
            var weighted = table.index_select(0, torch.tensor(batch.EntrySlot).to(device))
                           * torch.tensor(batch.EntryWeight).to(device).unsqueeze(1);                   // [E, d]
            features = features.IndexAdd(0, torch.tensor(batch.EntryDocument).to(device), weighted);
        }
        return features.matmul(_weight.t()).Plus(_bias);                                                // [B, C]
    }

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
