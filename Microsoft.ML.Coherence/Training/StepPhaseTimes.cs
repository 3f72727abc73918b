using System.Diagnostics;

namespace Microsoft.ML.Coherence.Training;

/// <summary>
/// Wall time of each phase of a training step, recorded when a benchmark attaches an instance to a trainer
/// (<see cref="CoherenceTrainer.PhaseTimes"/>), so that the paired benchmark can say where SCA's extra time goes.
/// Meaningful on the CPU, where every op has finished when it returns; on CUDA kernels run asynchronously and a
/// phase's time would be mostly that of launching them.
/// </summary>
internal sealed class StepPhaseTimes
{
    private readonly List<string> _order = [];
    private readonly Dictionary<string, List<double>> _seconds = [];
    private long _last;

    /// <summary>Marks the start of a step.</summary>
    public void Start() => _last = Stopwatch.GetTimestamp();

    /// <summary>Records the time since the previous mark as <paramref name="phase"/>.</summary>
    public void Mark(string phase)
    {
        long now = Stopwatch.GetTimestamp();
        if (!_seconds.TryGetValue(phase, out var list))
        {
            _seconds[phase] = list = [];
            _order.Add(phase);
        }
        list.Add(Stopwatch.GetElapsedTime(_last, now).TotalSeconds);
        _last = now;
    }

    /// <summary>Each phase, in the order first recorded, with its median over the steps after the first <paramref name="skip"/>.</summary>
    public IReadOnlyList<(string Phase, double MedianSeconds)> Medians(int skip) =>
        [.. _order.Select(phase => (phase, Median(_seconds[phase].Skip(skip).DefaultIfEmpty(0))))];

    /// <summary>The median of <paramref name="values"/> (the mean of the middle two for an even count).</summary>
    internal static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : 0.5 * (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]);
    }
}
