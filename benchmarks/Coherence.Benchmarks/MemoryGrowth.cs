using System.Globalization;

namespace Coherence.Benchmarks;

/// <summary>
/// Peak memory of a piece of work as the growth over what the process held just before it: the resident set
/// (managed and native together: libtorch's tensors are native) and, separately, the managed heap. The resident
/// set is sampled every millisecond or so on a background thread and, where Linux allows it, the kernel's own
/// high-water mark (VmHWM, reset through /proc/self/clear_refs before the work) catches peaks between samples.
/// </summary>
internal sealed class MemoryGrowth : IDisposable
{
    private const double MiB = 1024.0 * 1024.0;
    private readonly Thread _sampler;
    private readonly long _residentBefore;
    private readonly long _managedBefore;
    private readonly bool _highWaterReset;
    private long _residentPeak;
    private long _managedPeak;
    private volatile bool _stop;

    private MemoryGrowth()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        _highWaterReset = TryResetHighWaterMark();
        _residentBefore = ResidentBytes();
        _managedBefore = GC.GetTotalMemory(forceFullCollection: false);
        _residentPeak = _residentBefore;
        _managedPeak = _managedBefore;
        _sampler = new Thread(Sample) { IsBackground = true, Name = "memory sampler" };
        _sampler.Start();
    }

    /// <summary>Starts measuring (after a full collection, so the baseline holds no garbage).</summary>
    public static MemoryGrowth Start() => new();

    /// <summary>How the peak was found, for the printed note.</summary>
    public string Method => _highWaterReset
        ? "resident set (VmHWM after a reset through /proc/self/clear_refs, and 1 ms samples) minus the resident set before"
        : "resident set sampled every ~1 ms minus the resident set before (VmHWM could not be reset here)";

    /// <summary>Stops sampling; returns the growth of the resident set and of the managed heap, in MiB.</summary>
    public (double ResidentMB, double ManagedMB, double ResidentBeforeMB) Stop()
    {
        _stop = true;
        _sampler.Join();
        Observe();
        long peak = _residentPeak;
        if (_highWaterReset && HighWaterBytes() is long highWater)
            peak = Math.Max(peak, highWater);
        return ((peak - _residentBefore) / MiB, Math.Max(0, _managedPeak - _managedBefore) / MiB, _residentBefore / MiB);
    }

    public void Dispose()
    {
        _stop = true;
        if (_sampler.IsAlive)
            _sampler.Join();
    }

    private void Sample()
    {
        while (!_stop)
        {
            Observe();
            Thread.Sleep(1);
        }
    }

    private void Observe()
    {
        long resident = ResidentBytes();
        long managed = GC.GetTotalMemory(forceFullCollection: false);
        if (resident > Interlocked.Read(ref _residentPeak))
            Interlocked.Exchange(ref _residentPeak, resident);
        if (managed > Interlocked.Read(ref _managedPeak))
            Interlocked.Exchange(ref _managedPeak, managed);
    }

    // /proc/self/statm: size resident shared ... in pages.
    private static long ResidentBytes()
    {
        try
        {
            var fields = File.ReadAllText("/proc/self/statm").Split(' ');
            return long.Parse(fields[1], CultureInfo.InvariantCulture) * Environment.SystemPageSize;
        }
        catch (IOException)
        {
            return Environment.WorkingSet;
        }
    }

    private static long? HighWaterBytes()
    {
        try
        {
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return line is null ? null : long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException)
        {
            return null;
        }
    }

    // Writing 5 to clear_refs resets the peak resident set size (Linux 4.0+); check that it took.
    private static bool TryResetHighWaterMark()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return HighWaterBytes() is long highWater && highWater <= ResidentBytes() + 4 * 1024 * 1024;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
