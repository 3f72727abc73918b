using Microsoft.ML.Coherence.Internal;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Training;

/// <summary>
/// Row-wise ("lazy") AdamW for embedding tables that a step touches only in a few rows: each step takes a
/// table, the distinct ids of the rows it touched and their gradient [U, d], and updates only those rows,
/// their two moments and their own step count. TorchSharp has no SparseAdam; this is that optimiser with
/// AdamW's decoupled weight decay, written with the Scalar discipline of <see cref="SafeAdamW"/>.
/// </summary>
/// <remarks>
/// <para>For a touched row r with step count s_r (after this step's increment), gradient g_r, rate lr:
/// p_r ← p_r (1 - lr·wd); m_r ← β1 m_r + (1 - β1) g_r; v_r ← β2 v_r + (1 - β2) g_r²;
/// p_r ← p_r - lr / (1 - β1^s_r) · m_r / (sqrt(v_r) / sqrt(1 - β2^s_r) + ε). Rows not in the step keep
/// their weights, moments and count bit for bit.</para>
/// <para>How it relates to dense AdamW (<see cref="SafeAdamW"/>): on a row touched at every step the two are the
/// same update (the row's count equals the global one). A dense optimiser also moves a row at steps where its
/// gradient is zero (its first moment still decays into the weights, and weight decay applies); the lazy one
/// skips such a row until it is touched again, and bias-corrects with the row's own count, as
/// <c>torch.optim.SparseAdam</c> and TensorFlow's LazyAdam do. That is the documented difference, and the reason
/// it costs O(U·d) a step instead of a dozen passes over the [V, d] table.</para>
/// <para>One instance can serve several tables (word rows, subword bucket rows): each has its own state, and
/// <see cref="Step"/> names the table it updates. State is three tensors per table on the table's device:
/// both moments [V, d] and the step counts [V] (float64, exact for any practical count).</para>
/// </remarks>
internal sealed class RowSparseAdamW : IDisposable
{
    private readonly Parameter[] _tables;
    private readonly Tensor[] _firstMoment;
    private readonly Tensor[] _secondMoment;
    private readonly Tensor[] _rowSteps;
    private readonly double _beta1, _beta2, _epsilon, _weightDecay;

    /// <param name="tables">The tables [V_i, d] this optimiser updates.</param>
    /// <param name="learningRate">The initial learning rate (set <see cref="LearningRate"/> before each step for a schedule).</param>
    /// <param name="weightDecay">Decoupled weight decay, applied to the touched rows only.</param>
    /// <param name="beta1">First-moment decay.</param>
    /// <param name="beta2">Second-moment decay.</param>
    /// <param name="epsilon">Denominator floor.</param>
    public RowSparseAdamW(IEnumerable<Parameter> tables, double learningRate, double weightDecay,
        double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8)
    {
        _tables = tables.ToArray();
        if (_tables.Any(t => t.dim() != 2))
            throw new ArgumentException("Every table must be two-dimensional [rows, d].", nameof(tables));
        LearningRate = learningRate;
        _weightDecay = weightDecay;
        _beta1 = beta1;
        _beta2 = beta2;
        _epsilon = epsilon;
        using var noGrad = torch.no_grad();
        _firstMoment = _tables.Select(t => torch.zeros_like(t).DetachFromDisposeScope()).ToArray();
        _secondMoment = _tables.Select(t => torch.zeros_like(t).DetachFromDisposeScope()).ToArray();
        _rowSteps = _tables.Select(t => torch.zeros(t.shape[0], dtype: ScalarType.Float64, device: t.device).DetachFromDisposeScope()).ToArray();
    }

    public double LearningRate { get; set; }

    /// <summary>The tables this optimiser updates, in checkpoint order.</summary>
    public IReadOnlyList<Parameter> Tables => _tables;

    /// <summary>Each row's update count of <paramref name="table"/>, [V] float64 (for tests and diagnostics; do not modify).</summary>
    public Tensor RowSteps(Parameter table) => _rowSteps[IndexOf(table)];

    /// <summary>Updates rows <paramref name="rows"/> of <paramref name="table"/> from their gradient.</summary>
    /// <param name="table">One of <see cref="Tables"/>.</param>
    /// <param name="rows">[U] int64 distinct row ids on the table's device (duplicates would race in the write-back).</param>
    /// <param name="gradient">[U, d] the gradient of those rows, in the order of <paramref name="rows"/>.</param>
    public void Step(Parameter table, Tensor rows, Tensor gradient)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(gradient);
        int i = IndexOf(table);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        using var one = 1.0.ToScalar();
        using var decay = (1 - LearningRate * _weightDecay).ToScalar();
        using var beta1 = _beta1.ToScalar();
        using var beta2 = _beta2.ToScalar();
        using var oneMinusBeta1 = (1 - _beta1).ToScalar();
        using var oneMinusBeta2 = (1 - _beta2).ToScalar();
        using var epsilon = _epsilon.ToScalar();

        // Per-row bias correction from each row's own count, in float64: [U] -> [U, 1] in the table's dtype.
        var steps = _rowSteps[i].index_select(0, rows).PlusInPlace(one);
        var correction1 = steps.Times(Math.Log(_beta1)).exp().Times(-1).Plus(1);          // 1 - β1^s
        var correction2 = steps.Times(Math.Log(_beta2)).exp().Times(-1).Plus(1);          // 1 - β2^s
        var stepSize = correction1.reciprocal().Times(-LearningRate).to(table.dtype).unsqueeze(1);
        var root2 = correction2.sqrt().to(table.dtype).unsqueeze(1);

        var first = _firstMoment[i].index_select(0, rows).mul_(beta1).add_(gradient, oneMinusBeta1);
        var second = _secondMoment[i].index_select(0, rows).mul_(beta2).addcmul_(gradient, gradient, oneMinusBeta2);
        var denominator = second.sqrt().div_(root2).PlusInPlace(epsilon);
        var weights = table.index_select(0, rows);
        if (_weightDecay != 0)
            weights.mul_(decay);
        weights.addcmul_(first.div(denominator), stepSize, one);

        table.index_copy_(0, rows, weights);
        _firstMoment[i].index_copy_(0, rows, first);
        _secondMoment[i].index_copy_(0, rows, second);
        _rowSteps[i].index_copy_(0, rows, steps);
    }

    /// <summary>Writes every table's moments and row counts.</summary>
    public void Save(BinaryWriter writer)
    {
        writer.Write(_tables.Length);
        for (int i = 0; i < _tables.Length; i++)
        {
            _firstMoment[i].Save(writer);
            _secondMoment[i].Save(writer);
            _rowSteps[i].Save(writer);
        }
    }

    /// <summary>Reads the state written by <see cref="Save"/> into this optimiser's tensors.</summary>
    /// <exception cref="InvalidDataException">The saved state is for another number of tables.</exception>
    public void Load(BinaryReader reader)
    {
        int count = reader.ReadInt32();
        if (count != _tables.Length)
            throw new InvalidDataException($"The checkpoint's row-sparse optimiser state has {count} tables; this model has {_tables.Length}.");
        using var noGrad = torch.no_grad();
        for (int i = 0; i < count; i++)
        {
            _firstMoment[i].Load(reader);
            _secondMoment[i].Load(reader);
            _rowSteps[i].Load(reader);
        }
    }

    private int IndexOf(Parameter table)
    {
        for (int i = 0; i < _tables.Length; i++)
        {
            if (ReferenceEquals(_tables[i], table) || _tables[i].Handle == table.Handle)
                return i;
        }
        throw new ArgumentException("The table is not one this optimiser was created with.", nameof(table));
    }

    public void Dispose()
    {
        foreach (var tensor in _firstMoment.Concat(_secondMoment).Concat(_rowSteps))
            tensor.Dispose();
    }
}
