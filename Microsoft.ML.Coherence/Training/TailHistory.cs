using static TorchSharp.torch;

namespace Microsoft.ML.Coherence.Training;

/// <summary>
/// The per-step history <see cref="RowSparseAdamW"/> needs to apply dense AdamW's zero-gradient steps in closed form:
/// a_τ = lr_τ sqrt(1 - β2^τ)/(1 - β1^τ) and log(1 - lr_τ wd) for each step τ taken, and from them the tail sums
/// S(L, u) = Σ_{τ=L+1..u} a_τ r^(τ-L) (r = β1/sqrt(β2)) for the latest step u: by k = u - L for the last
/// <see cref="RowSparseAdamW.Window"/> steps, and by L once L is older than that (the remaining terms are negligible).
/// </summary>
internal sealed class TailHistory : IDisposable
{
    private readonly double _ratio;
    private readonly List<double> _rates = [];      // a_τ at index τ - 1
    private readonly List<double> _logDecay = [0];  // Σ_{τ<=n} log(1 - lr_τ wd) at index n
    private readonly List<double> _final = [0];     // S(L, L + Window) at index L, 0 until final
    private readonly double[] _recent = new double[RowSparseAdamW.Window + 1];
    private readonly DeviceCopy _finalCopy = new();
    private readonly DeviceCopy _logDecayCopy = new();

    /// <param name="ratio">r = β1/sqrt(β2), the factor a missed step's weight falls by per step.</param>
    public TailHistory(double ratio) => _ratio = ratio;

    /// <summary>Steps recorded.</summary>
    public long Steps => _rates.Count;

    /// <summary>Records step Steps + 1.</summary>
    public void Add(double rate, double logDecay)
    {
        _rates.Add(rate);
        _logDecay.Add(_logDecay[^1] + logDecay);
        _final.Add(0);
        Refresh();
    }

    /// <summary>For the latest step u: S(u - k, u) for k = 0 .. Window, and S(L, ∞) by L (0 for L within the window), on <paramref name="device"/>.</summary>
    public (Tensor Recent, Tensor Final) Sums(Device device) =>
        (tensor(_recent, device: device), _finalCopy.Of(_final, device));

    /// <summary>Σ_{τ ≤ n} log(1 - lr_τ wd) by n = 0 .. Steps, on <paramref name="device"/>.</summary>
    public Tensor LogDecayPrefix(Device device) => _logDecayCopy.Of(_logDecay, device);

    public void Save(BinaryWriter writer)
    {
        writer.Write(_rates.Count);
        for (int i = 0; i < _rates.Count; i++)
        {
            writer.Write(_rates[i]);
            writer.Write(_logDecay[i + 1] - _logDecay[i]);
        }
    }

    /// <summary>Null when the history at the reader's position is whole (a count, then two doubles a step); otherwise what is
    /// wrong. Reads past it without allocating.</summary>
    public static string? Mismatch(BinaryReader reader, string name)
    {
        int count = reader.ReadInt32();
        long bytes = 2L * sizeof(double) * count;
        if (count < 0 || reader.BaseStream.Length - reader.BaseStream.Position < bytes)
            return $"{name} declares {count} steps, which the file does not hold";
        reader.BaseStream.Seek(bytes, SeekOrigin.Current);
        return null;
    }

    public void Load(BinaryReader reader)
    {
        int count = reader.ReadInt32();
        if (count < 0)
            throw new InvalidDataException($"The row-sparse optimiser's history has {count} steps.");
        _rates.Clear();
        _logDecay.RemoveRange(1, _logDecay.Count - 1);
        _final.RemoveRange(1, _final.Count - 1);
        Array.Clear(_recent);
        _finalCopy.Reset();
        _logDecayCopy.Reset();
        for (int i = 0; i < count; i++)
        {
            double rate = reader.ReadDouble();
            Add(rate, reader.ReadDouble());
        }
    }

    /// <summary>Recomputes the sums by k for the latest step (S_k = r (a_{u-k+1} + S_{k-1})) and finalises L = u - Window.</summary>
    private void Refresh()
    {
        int u = _rates.Count;
        double sum = 0;
        _recent[0] = 0;
        for (int k = 1; k <= RowSparseAdamW.Window; k++)
        {
            if (k <= u)
                sum = _ratio * (_rates[u - k] + sum);
            _recent[k] = sum;
        }
        if (u >= RowSparseAdamW.Window)
            _final[u - RowSparseAdamW.Window] = _recent[RowSparseAdamW.Window];
    }

    public void Dispose()
    {
        _finalCopy.Dispose();
        _logDecayCopy.Dispose();
    }

    /// <summary>
    /// A device copy of a host list that only grows at the end and changes only in its last <see cref="RowSparseAdamW.Window"/>
    /// + 1 entries: each call uploads that suffix, into a buffer that doubles when full.
    /// </summary>
    private sealed class DeviceCopy : IDisposable
    {
        private Tensor? _buffer;

        public Tensor Of(List<double> values, Device device)
        {
            if (_buffer is null || _buffer.device_type != device.type || _buffer.device_index != device.index || _buffer.shape[0] < values.Count)
            {
                var grown = zeros(Math.Max(1024, 2L * values.Count), dtype: ScalarType.Float64, device: device).DetachFromDisposeScope();
                _buffer?.Dispose();
                _buffer = grown;
                Upload(values, 0);
            }
            else
            {
                Upload(values, Math.Max(0, values.Count - RowSparseAdamW.Window - 2));
            }
            return _buffer.narrow(0, 0, values.Count);
        }

        private void Upload(List<double> values, int from)
        {
            if (values.Count == from)
                return;
            using var part = tensor(values.GetRange(from, values.Count - from).ToArray(), device: _buffer!.device);
            using var target = _buffer.narrow(0, from, values.Count - from);
            target.copy_(part);
        }

        public void Reset()
        {
            _buffer?.Dispose();
            _buffer = null;
        }

        public void Dispose() => Reset();
    }
}
