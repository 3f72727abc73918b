using System.Runtime;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Coherence.Internal;

/// <summary>
/// Returns to the operating system the managed memory a fit no longer uses. Preparing a corpus allocates far more than it
/// keeps (token strings of both passes, the co-occurrence table while it grows: about 1 GB at the peak for 20 MB of text
/// in one row), and .NET's collector keeps freed memory committed for reuse, so the process stayed over 1.5 GB resident
/// after Fit while its live heap was 90 MB. A full, compacting, aggressive collection releases it; it runs only when the
/// process's resident memory grew by more than <see cref="Threshold"/> during the fit, so small fits never pay its pause.
/// (The collector's own committed-bytes figure undercounts what it keeps, so the working set decides.)
/// </summary>
internal static class IdleMemory
{
    /// <summary>Growth of the resident set during a fit above which the fit releases idle memory.</summary>
    public const long Threshold = 256L << 20;

    /// <summary>Releases idle managed memory when the resident set grew by more than <see cref="Threshold"/> since
    /// <paramref name="workingSetBefore"/> (<see cref="Environment.WorkingSet"/> when the fit began); logs what it did.</summary>
    /// <returns>The megabytes the resident set shrank by (0 when it did nothing).</returns>
    public static long Release(IHostEnvironment environment, long workingSetBefore)
    {
        long before = Environment.WorkingSet;
        if (before - workingSetBefore <= Threshold)
            return 0;
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        long after = Environment.WorkingSet;
        long released = Math.Max(0, before - after) >> 20;
        using var channel = environment.Start(ComponentContext.HostName);
        channel.Info(MessageSensitivity.None, System.FormattableString.Invariant(
            $"Returned {released:N0} MB the fit no longer uses to the operating system (one full, compacting collection): resident {before >> 20:N0} -> {after >> 20:N0} MB."));
        return released;
    }
}
