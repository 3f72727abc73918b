using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Microsoft.ML.Coherence.Modules;

namespace Microsoft.ML.Coherence.Training;

/// <summary>
/// The trainer's optimiser: dense AdamW (<see cref="SafeAdamW"/>) for the Transformer's parameters and, in the
/// row-sparse mode, a lazy row-wise AdamW (<see cref="RowSparseAdamW"/>) for the embedding table, which a step
/// touches in a few thousand of its V rows. In the dense mode SafeAdamW updates every parameter, the table
/// included (the full-softmax path needs it: its gradient reaches every row). Saves and restores both states.
/// </summary>
internal sealed class TrainingOptimizer : IDisposable
{
    private const int FormatVersion = 2; // 2: the row-sparse state has each row's last step and rate (catch-up)
    private readonly SafeAdamW _dense;
    private readonly RowSparseAdamW? _rows;
    private readonly Parameter _embedding;

    /// <param name="model">The model whose parameters are trained.</param>
    /// <param name="learningRate">The initial learning rate.</param>
    /// <param name="weightDecay">Decoupled weight decay.</param>
    /// <param name="rowSparseEmbedding">True: the embedding table is updated row-wise from a [U, d] gradient; false: densely.</param>
    public TrainingOptimizer(CoherenceLanguageModel model, double learningRate, double weightDecay, bool rowSparseEmbedding)
    {
        _embedding = model.Embedding;
        var all = model.parameters().ToArray();
        _dense = new SafeAdamW(rowSparseEmbedding ? all.Where(p => p.Handle != _embedding.Handle) : all, learningRate, weightDecay);
        _rows = rowSparseEmbedding ? new RowSparseAdamW([_embedding], learningRate, weightDecay) : null;
    }

    /// <summary>True when the embedding table is updated row-wise.</summary>
    public bool RowSparse => _rows is not null;

    public double LearningRate
    {
        get => _dense.LearningRate;
        set
        {
            _dense.LearningRate = value;
            if (_rows is not null)
                _rows.LearningRate = value;
        }
    }

    /// <summary>The gradients the dense optimiser will apply (those of parameters that have one).</summary>
    public IEnumerable<Tensor> DenseGradients => _dense.Parameters.Select(p => p.grad).Where(g => g is not null)!;

    /// <summary>Applies one update: the dense parameters from their gradients and, in the row-sparse mode, the embedding
    /// rows of <paramref name="rows"/> (from <see cref="Gather"/>) from <paramref name="rowGradient"/>.</summary>
    /// <param name="rows">The step's embedding rows (row-sparse mode).</param>
    /// <param name="rowGradient">[U, d] their gradient (row-sparse mode).</param>
    public void Step(RowBatch? rows, Tensor? rowGradient)
    {
        _dense.Step();
        if (_rows is not null)
        {
            if (rows is null || rowGradient is null)
                throw new InvalidOperationException("The row-sparse mode needs the step's rows and their gradient.");
            _rows.Step(rows, rowGradient);
        }
    }

    public void ZeroGrad() => _dense.ZeroGrad();

    /// <summary>Row-sparse mode: the embedding rows <paramref name="rows"/> caught up, as a step reads them (<see cref="RowSparseAdamW.Gather"/>).</summary>
    public RowBatch Gather(Tensor rows) =>
        (_rows ?? throw new InvalidOperationException("Only the row-sparse mode gathers rows.")).Gather(_embedding, rows);

    /// <summary>At the end of training: the row-sparse table takes every row's pending tail (<see cref="RowSparseAdamW.Flush"/>).</summary>
    public void Flush() => _rows?.Flush();

    public void Save(BinaryWriter writer)
    {
        writer.Write(FormatVersion);
        writer.Write(RowSparse);
        _dense.Save(writer);
        _rows?.Save(writer);
    }

    /// <summary>
    /// Null when the state at the reader's position, as <see cref="Save"/> writes it, fits this optimiser tensor for tensor;
    /// otherwise what does not. Allocates nothing the file declares (see <see cref="TensorHeader"/>).
    /// </summary>
    public string? Mismatch(BinaryReader reader)
    {
        int version = reader.ReadInt32();
        if (version != FormatVersion)
            return $"its optimiser state has version {version}, this build reads {FormatVersion}";
        bool rowSparse = reader.ReadBoolean();
        if (rowSparse != RowSparse)
            return $"its optimiser state is {(rowSparse ? "row-sparse" : "dense")}, this run's {(RowSparse ? "row-sparse" : "dense")}";
        return _dense.Mismatch(reader) ?? _rows?.Mismatch(reader);
    }

    /// <exception cref="InvalidDataException">The state was saved by another version or in the other mode.</exception>
    public void Load(BinaryReader reader)
    {
        int version = reader.ReadInt32();
        if (version != FormatVersion)
            throw new InvalidDataException($"The checkpoint's optimiser state has version {version}; this build reads version {FormatVersion}.");
        bool rowSparse = reader.ReadBoolean();
        if (rowSparse != RowSparse)
            throw new InvalidDataException($"The checkpoint's optimiser state is {(rowSparse ? "row-sparse" : "dense")}; this run's is {(RowSparse ? "row-sparse" : "dense")}.");
        _dense.Load(reader);
        _rows?.Load(reader);
    }

    public void Dispose()
    {
        _dense.Dispose();
        _rows?.Dispose();
    }
}
