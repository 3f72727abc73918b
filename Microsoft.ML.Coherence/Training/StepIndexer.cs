using Microsoft.ML.Coherence.Modules;
using Microsoft.ML.Coherence.Statistics;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Training;

/// <summary>
/// Finds the rows a step touches (inputs, targets, LM negatives, then the anchors, their neighbours and the alignment
/// negatives) and gathers each distinct one once, so every term reads the same small table [U, d]. On the CPU the ids,
/// alignment rows and mask are built in plain arrays; on CUDA with tensor ops on the device, with the field uploaded once.
/// </summary>
internal sealed class StepIndexer : IDisposable
{
    private readonly CoherenceLanguageModel _model;
    private readonly TrainingOptimizer _optimizer;
    private readonly bool _rowSparse;
    private readonly Device _device;
    private int[]? _slotOf;
    private DeviceField? _deviceField;
    private StatisticalField? _deviceFieldSource;

    public StepIndexer(CoherenceLanguageModel model, TrainingOptimizer optimizer, bool rowSparse, Device device)
    {
        (_model, _optimizer, _rowSparse, _device) = (model, optimizer, rowSparse, device);
        HostIndexing = device.type == DeviceType.CPU;
    }

    /// <summary>
    /// True on the CPU, where the "device" is the host: the step's row ids, alignment rows and mask are then built in
    /// plain arrays (one pass, a slot table of size V reused across steps), which measured 0.6-1.3 ms a static SCA step
    /// cheaper than the same work as tensor ops (benchmarks/README.md); on CUDA they are gathered on the device.
    /// Settable as a test seam; both give the same model up to the clip norm's summation order (test).
    /// </summary>
    public bool HostIndexing { get; set; }

    /// <summary>The step's alignment batch (null when the term is off this step) and the distinct ids of every row it touches
    /// with each read's slot: built in arrays on the CPU (<see cref="HostIndexing"/>), with tensor ops on CUDA.</summary>
    public (AlignmentTensors? Alignment, (Tensor Ids, Tensor Slots) Distinct) Distinct(StepDraws draws, StepIds ids, RunInputs run)
    {
        AlignmentTensors? alignment;
        (Tensor Ids, Tensor Slots) distinct;
        if (HostIndexing)
        {
            var host = draws.AlignmentNegatives is not null ? AlignmentBatch.Create(draws.Anchors, run.Field, draws.AlignmentNegatives) : null;
            alignment = host is null ? null : AlignmentTensors.From(host, _device);
            distinct = HostDistinct(draws, host, run.Batch, run.Time);
        }
        else
        {
            alignment = draws.AlignmentNegatives is not null
                ? AlignmentTensors.Gather(FieldOnDevice(run.Field), ids.Anchors, ids.Negatives)
                : null;
            // Every embedding row this step touches, in one id list: inputs, targets, LM negatives, then the anchors,
            // their neighbours and the alignment negatives (contiguous, so one normalise serves the coherence terms).
            distinct = DeviceDistinct(torch.cat([ids.Inputs, ids.Targets, ids.Sampled, alignment?.RowIds() ?? ids.Anchors]));
        }
        return (alignment, distinct);
    }

    /// <summary>
    /// Gathers each distinct row the step touches once into a small table [U, d]; the step expands from it by
    /// slot, so the expansion's backward accumulates into [U, d]. Row-sparse mode: the table is the optimiser's
    /// caught-up copy of the rows (<see cref="RowSparseAdamW.Gather"/>) made a leaf, so backward yields its [U, d] gradient
    /// and never a dense [V, d] one; the optimiser updates that copy and writes the U rows back once. Dense mode: an
    /// index_select of the parameter, whose backward fills the [V, d] gradient.
    /// </summary>
    /// <param name="distinct">The distinct ids [U] and, for each row the step reads, its slot [N].</param>
    public DistinctRows GatherRows((Tensor Ids, Tensor Slots) distinct)
    {
        if (_rowSparse)
        {
            var sparse = _optimizer.Gather(distinct.Ids); // the rows as dense AdamW would hold them (RowSparseAdamW remarks)
            return new DistinctRows(distinct.Ids, sparse.Weights.requires_grad_(true), distinct.Slots, sparse); // [U, d]
        }
        return new DistinctRows(distinct.Ids, _model.Rows(distinct.Ids), distinct.Slots, null);  // [U, d]
    }

    /// <summary>Distinct ids on the device: sorted, with each read's slot. The number of distinct ids is data-dependent,
    /// so on CUDA this waits for the device (see the class remarks).</summary>
    private static (Tensor Ids, Tensor Slots) DeviceDistinct(Tensor rowIds)
    {
        var (distinct, slots, _) = rowIds.unique(sorted: true, return_inverse: true);
        return (distinct, slots!);
    }

    /// <summary>Host form of <see cref="DeviceDistinct"/>: distinct ids in first-read order, and each read's slot,
    /// in the row order of the device path (inputs, targets, LM negatives, anchors, neighbours, negatives).</summary>
    private (Tensor Ids, Tensor Slots) HostDistinct(StepDraws draws, AlignmentBatch? alignment, int batch, int time)
    {
        var slotOf = _slotOf ??= new int[_model.VocabularySize];
        var distinct = new List<long>(1 << 12);
        int positions = batch * time;
        var coherence = alignment?.RowCount ?? draws.Anchors.Length;
        var slots = new long[2 * positions + draws.Sampled.Length + coherence];
        int at = 0;
        void Add(long id)
        {
            int slot = slotOf[id] - 1;
            if (slot < 0)
            {
                slot = distinct.Count;
                distinct.Add(id);
                slotOf[id] = slot + 1;
            }
            slots[at++] = slot;
        }
        for (int n = 0; n < positions; n++)
            Add(draws.Windows[n / time * (time + 1) + n % time]);
        for (int n = 0; n < positions; n++)
            Add(draws.Windows[n / time * (time + 1) + n % time + 1]);
        foreach (long id in draws.Sampled)
            Add(id);
        // The coherence rows in AlignmentBatch.RowIds order (anchors, neighbours, negatives), read as arrays.
        foreach (long id in draws.Anchors)
            Add(id);
        if (alignment is not null)
        {
            foreach (long id in alignment.Neighbors)
                Add(id);
            foreach (long id in alignment.Negatives)
                Add(id);
        }
        foreach (long id in distinct)
            slotOf[id] = 0; // leave the table clear for the next step
        return (torch.tensor(distinct.ToArray(), device: _device), torch.tensor(slots, device: _device));
    }

    /// <summary>The field on the training device, uploaded on first use and kept for the run.</summary>
    private DeviceField FieldOnDevice(StatisticalField field)
    {
        if (!ReferenceEquals(_deviceFieldSource, field))
        {
            _deviceField?.Dispose();
            _deviceField = DeviceField.Create(field, _device);
            _deviceFieldSource = field;
        }
        return _deviceField!;
    }

    public void Dispose() => _deviceField?.Dispose();
}
