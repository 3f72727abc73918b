using Microsoft.ML.Coherence.Internal;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Training;

/// <summary>
/// Row-wise ("lazy") AdamW for embedding tables that a step touches only in a few rows, computed so that it follows
/// dense AdamW: each step takes a table, the distinct ids of the rows it touched and their gradient [U, d], and updates
/// only those rows and their two moments, first catching each row up on the steps it was not touched, in closed form.
/// TorchSharp has no SparseAdam; this is that optimiser with AdamW's decoupled weight decay, written with the Scalar
/// discipline of <see cref="SafeAdamW"/>.
/// </summary>
/// <remarks>
/// <para>Dense AdamW keeps moving a row at steps where its gradient is zero: m decays by β1 and v by β2 each step, and the
/// weights keep taking lr·m̂/(sqrt(v̂) + ε), so a row touched once travels several times its own step after that touch.
/// Plain lazy Adam (<c>torch.optim.SparseAdam</c>, TensorFlow's LazyAdam) drops that tail and bias-corrects each row with
/// its own count, a much smaller effective step for rare words (measured on the WordNet validation split,
/// docs/results/defaults.md). Here a row last updated at step L that is touched again at step t first receives what dense
/// AdamW applied to it at steps τ = L+1 .. t-1 with a zero gradient, in closed form, because those steps scale the row's
/// m and v by powers of β1 and β2 only: with r = β1/sqrt(β2) and a_τ = lr_τ sqrt(1 - β2^τ)/(1 - β1^τ),
/// p ← p·Π(1 - lr_τ wd) - S(L, t-1) · m / (sqrt(v) + ε), S(L, u) = Σ_{τ=L+1..u} a_τ r^(τ-L); m ← β1^k m; v ← β2^k v (k = t-1-L);
/// then this step's update exactly as dense AdamW's at step t. The catch-up happens when a step gathers its rows,
/// <see cref="Gather"/>, before its forward pass, so the gradient is taken at the weights dense AdamW would hold; the
/// gathered copy is what the step reads and what <see cref="Step(RowBatch, Tensor)"/> updates and writes back, so each row is
/// read and written once a step. S is kept per step for the last <see cref="Window"/> steps
/// (r^Window is below 10^-20, so older sums are final). This equals dense AdamW up to where ε sits in a zero-gradient step
/// (ε·sqrt(1 - β2^τ) against ε) and the order of weight decay within the missed steps (exact with the default decay 0);
/// the test holds it to 1e-5 over a schedule. <see cref="Flush"/> applies every row's pending tail at the end of training.
/// Rows not in a step keep their weights, moments and state bit for bit until their next update or the flush.</para>
/// <para>One instance can serve several tables: each has its own state, and
/// <see cref="Step(RowBatch, Tensor)"/> knows the table it updates. State per table: both moments [V, d] and each row's last update step
/// [V] (float64) on the table's device, and the table's per-step history of a_τ and of the weight decay on the host.</para>
/// </remarks>
internal sealed class RowSparseAdamW : IDisposable
{
    /// <summary>Steps after which a missed step's weight r^j in the tail is negligible (below 10^-20 for β1 = 0.9, β2 = 0.999).</summary>
    internal const int Window = 512;

    private readonly Parameter[] _tables;
    private readonly Tensor[] _firstMoment;
    private readonly Tensor[] _secondMoment;
    private readonly Tensor[] _lastStep;
    private readonly TailHistory[] _history;
    private readonly double _beta1, _beta2, _epsilon, _weightDecay;

    /// <param name="tables">The tables [V_i, d] this optimiser updates.</param>
    /// <param name="learningRate">The initial learning rate (set <see cref="LearningRate"/> before each step for a schedule).</param>
    /// <param name="weightDecay">Decoupled weight decay.</param>
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
        _lastStep = _tables.Select(t => torch.zeros(t.shape[0], dtype: ScalarType.Float64, device: t.device).DetachFromDisposeScope()).ToArray();
        _history = _tables.Select(_ => new TailHistory(beta1 / Math.Sqrt(beta2))).ToArray();
    }

    public double LearningRate { get; set; }

    /// <summary>The tables this optimiser updates, in checkpoint order.</summary>
    public IReadOnlyList<Parameter> Tables => _tables;

    /// <summary>Each row's last update step of <paramref name="table"/> (0: never), [V] float64 (for tests and diagnostics; do not modify).</summary>
    public Tensor RowSteps(Parameter table) => _lastStep[IndexOf(table)];

    /// <summary>
    /// Gathers rows <paramref name="rows"/> of <paramref name="table"/> and their moments, caught up on the steps they missed
    /// (see the remarks): the weights a step's forward pass reads, as dense AdamW would hold them. Nothing is written back
    /// until <see cref="Step(RowBatch, Tensor)"/>, so a step that fails before its update leaves the table, the moments and
    /// each row's pending tail as they were. The tensors belong to the caller's dispose scope.
    /// </summary>
    /// <param name="table">One of <see cref="Tables"/>.</param>
    /// <param name="rows">[U] int64 distinct row ids on the table's device (duplicates would race in the write-back).</param>
    public RowBatch Gather(Parameter table, Tensor rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        int i = IndexOf(table);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var weights = table.index_select(0, rows);
        var first = _firstMoment[i].index_select(0, rows);
        var second = _secondMoment[i].index_select(0, rows);
        if (_history[i].Steps > 0)
            CatchUp(_history[i], weights, first, second, _lastStep[i].index_select(0, rows));
        var batch = new RowBatch(i, rows.alias(), weights, first, second);
        batch.MoveToOuterDisposeScope();
        return batch;
    }

    /// <summary>
    /// Step the rows of <paramref name="batch"/> (from <see cref="Gather"/>, before the forward pass that produced
    /// <paramref name="gradient"/>) as dense AdamW at the next step, and write them, their moments and their step back.
    /// </summary>
    /// <param name="batch">The step's rows, caught up.</param>
    /// <param name="gradient">[U, d] the gradient of those rows, in the order of the batch's rows.</param>
    public void Step(RowBatch batch, Tensor gradient)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(gradient);
        int i = batch.Table;
        var history = _history[i];
        long t = history.Steps + 1;
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        using var beta1 = _beta1.ToScalar();
        using var beta2 = _beta2.ToScalar();
        using var oneMinusBeta1 = (1 - _beta1).ToScalar();
        using var oneMinusBeta2 = (1 - _beta2).ToScalar();
        using var epsilon = _epsilon.ToScalar();
        var weights = batch.Weights.detach(); // the step's leaf shares this storage; its values are not read after backward
        var first = batch.First;
        var second = batch.Second;

        if (_weightDecay != 0)
        {
            using var decay = (1 - LearningRate * _weightDecay).ToScalar();
            weights.mul_(decay);
        }
        first.mul_(beta1).add_(gradient, oneMinusBeta1);
        second.mul_(beta2).addcmul_(gradient, gradient, oneMinusBeta2);
        using var root2 = Math.Sqrt(1 - Math.Pow(_beta2, t)).ToScalar();
        using var stepSize = (-LearningRate / (1 - Math.Pow(_beta1, t))).ToScalar();
        var denominator = second.sqrt().div_(root2).PlusInPlace(epsilon);
        weights.addcdiv_(first, denominator, stepSize); // as SafeAdamW writes it

        WriteBack(batch, weights);
        using var stepValue = ((double)t).ToScalar();
        _lastStep[i].index_fill_(0, batch.Rows, stepValue);
        history.Add(LearningRate * Math.Sqrt(1 - Math.Pow(_beta2, t)) / (1 - Math.Pow(_beta1, t)), Math.Log(Math.Max(1e-300, 1 - LearningRate * _weightDecay)));
    }

    /// <summary>
    /// Step rows <paramref name="rows"/> of <paramref name="table"/> from their gradient: <see cref="Gather"/> then
    /// <see cref="Step(RowBatch, Tensor)"/>, for a gradient taken at the table's stored rows. A row with pending steps is
    /// caught up first here, after its gradient was taken; gather the step's rows with <see cref="Gather"/> (or call
    /// <see cref="CatchUp(Parameter, Tensor)"/>) before the forward pass to take it at the caught-up weights.
    /// </summary>
    /// <param name="table">One of <see cref="Tables"/>.</param>
    /// <param name="rows">[U] int64 distinct row ids on the table's device (duplicates would race in the write-back).</param>
    /// <param name="gradient">[U, d] the gradient of those rows, in the order of <paramref name="rows"/>.</param>
    public void Step(Parameter table, Tensor rows, Tensor gradient)
    {
        using var scope = torch.NewDisposeScope();
        Step(Gather(table, rows), gradient);
    }

    /// <summary>
    /// Brings rows <paramref name="rows"/> of <paramref name="table"/> up to the last step taken (their pending tail, see the
    /// remarks) and writes them back; <see cref="Flush"/> and readers outside a step use it.
    /// </summary>
    public void CatchUp(Parameter table, Tensor rows)
    {
        int i = IndexOf(table);
        if (_history[i].Steps == 0)
            return;
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var batch = Gather(table, rows);
        WriteBack(batch, batch.Weights);
        using var stepValue = ((double)_history[i].Steps).ToScalar();
        using var zero = 0.0.ToScalar();
        var last = _lastStep[i].index_select(0, rows);
        _lastStep[i].index_copy_(0, rows, last.masked_fill_(last.gt(zero), stepValue)); // rows never updated stay at 0
    }

    /// <summary>Writes <paramref name="weights"/> and the batch's moments back to its table's rows.</summary>
    private void WriteBack(RowBatch batch, Tensor weights)
    {
        int i = batch.Table;
        _tables[i].index_copy_(0, batch.Rows, weights);
        _firstMoment[i].index_copy_(0, batch.Rows, batch.First);
        _secondMoment[i].index_copy_(0, batch.Rows, batch.Second);
    }

    /// <summary>
    /// Applies every row's pending tail up to the last step taken, so the tables are what dense AdamW would have left
    /// (see the remarks); call once when training ends. Rows then count as updated at that step.
    /// </summary>
    public void Flush()
    {
        foreach (var table in _tables)
        {
            using var all = ScalarArithmetic.Range(0, table.shape[0], table.device);
            CatchUp(table, all);
        }
    }

    /// <summary>
    /// In place on <paramref name="weights"/> and the moments (rows aligned with <paramref name="last"/>): dense AdamW's
    /// zero-gradient steps from each row's last update to the last step in <paramref name="history"/> (none for rows already
    /// there; rows never updated have zero moments and are left as they are).
    /// </summary>
    private void CatchUp(TailHistory history, Tensor weights, Tensor first, Tensor second, Tensor last)
    {
        long until = history.Steps;
        if (until == 0)
            return;
        using var one = 1.0.ToScalar();
        using var untilStep = ((double)until).ToScalar();
        using var logBeta1 = Math.Log(_beta1).ToScalar();
        using var logBeta2 = Math.Log(_beta2).ToScalar();
        using var epsilon = _epsilon.ToScalar();
        using var windowValue = ((double)Window).ToScalar();
        using var zero = 0.0.ToScalar();

        var updated = last.gt(zero);
        var missed = last.neg().PlusInPlace(untilStep).mul_(updated.to(ScalarType.Float64));                     // k per row; 0 if never updated
        var lastIndex = last.to(ScalarType.Int64);
        var (recent, final) = history.Sums(weights.device);                                                // S(u - k, u) for k <= Window; S(L, ∞) by L
        var tail = torch.where(missed.le(windowValue),
            recent.index_select(0, missed.clamp_max(windowValue).to(ScalarType.Int64)),
            final.index_select(0, lastIndex));                                                             // S(L, u) per row
        if (_weightDecay != 0)
        {
            var logDecay = history.LogDecayPrefix(weights.device);                                         // Σ_{τ<=n} log(1 - lr_τ wd)
            var decay = logDecay.index_select(0, lastIndex).neg().Plus(logDecay[until]).exp_().masked_fill_(updated.logical_not(), one);
            weights.mul_(decay.to(weights.dtype).unsqueeze(1));
        }
        var denominator = second.sqrt().PlusInPlace(epsilon); // dense AdamW's is sqrt(v) + ε·sqrt(1 - β2^τ): the same up to ε
        weights.addcmul_(first, denominator.reciprocal_().mul_(tail.neg().to(weights.dtype).unsqueeze(1)), one);
        first.mul_(missed.mul(logBeta1).exp_().to(first.dtype).unsqueeze(1));
        second.mul_(missed.mul(logBeta2).exp_().to(second.dtype).unsqueeze(1));
    }

    /// <summary>Writes every table's step count, moments and per-row state.</summary>
    public void Save(BinaryWriter writer)
    {
        writer.Write(_tables.Length);
        for (int i = 0; i < _tables.Length; i++)
        {
            _history[i].Save(writer);
            _firstMoment[i].Save(writer);
            _secondMoment[i].Save(writer);
            _lastStep[i].Save(writer);
        }
    }

    /// <summary>Null when the state at the reader's position fits this optimiser's tensors; otherwise what does not.</summary>
    public string? Mismatch(BinaryReader reader)
    {
        int count = reader.ReadInt32();
        if (count != _tables.Length)
            return $"its row-sparse optimiser state has {count} tables, this run's {_tables.Length}";
        for (int i = 0; i < count; i++)
        {
            if ((TailHistory.Mismatch(reader, $"table {i}'s step history")
                    ?? TensorHeader.Mismatch(reader.BaseStream, _firstMoment[i], $"table {i} first moment")
                    ?? TensorHeader.Mismatch(reader.BaseStream, _secondMoment[i], $"table {i} second moment")
                    ?? TensorHeader.Mismatch(reader.BaseStream, _lastStep[i], $"table {i} last step")) is { } mismatch)
                return mismatch;
        }
        return null;
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
            _history[i].Load(reader);
            _firstMoment[i].Load(reader);
            _secondMoment[i].Load(reader);
            _lastStep[i].Load(reader);
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
        foreach (var tensor in _firstMoment.Concat(_secondMoment).Concat(_lastStep))
            tensor.Dispose();
        foreach (var history in _history)
            history.Dispose();
    }
}
