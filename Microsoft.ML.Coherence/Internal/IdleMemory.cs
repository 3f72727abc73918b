using System.Runtime;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.Coherence.Internal;

/// <summary>
/// Returns to the operating system the managed memory a fit no longer uses. Preparing a corpus allocates far more than it
/// keeps (ML.NET's buffers of both passes, the co-occurrence tables), and .NET's collector keeps freed memory committed
/// for reuse: before this, the process stayed over 1.5 GB resident after a fit on 20 MB of text while its live heap was
/// 90 MB. A full, compacting, aggressive collection releases it; it runs only when the
/// process's resident memory grew by more than <see cref="Threshold"/> during the fit, so small fits never pay its pause.
/// (The collector's own committed-bytes figure undercounts what it keeps, so the working set decides.)
/// </summary>
internal static class IdleMemory
{
    /// <summary>Growth of the resident set during a fit above which the fit releases idle memory.</summary>
    public const long Threshold = 256L << 20;

    /// <summary>
    /// A full collection, keeping the freed memory committed for what comes next, when the managed heap grew by more than
    /// <see cref="Threshold"/> since <paramref name="managedBefore"/> (<see cref="GC.GetTotalMemory(bool)"/>): between passes
    /// over a corpus, so that one pass's dead buffers are reused by the next instead of adding to them.
    /// </summary>
    public static void CollectBetweenPasses(long managedBefore)
    {
        if (GC.GetTotalMemory(forceFullCollection: false) - managedBefore > Threshold)
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true);
    }

    /// <summary>Releases idle managed memory when the resident set grew by more than <see cref="Threshold"/> since
    /// <paramref name="workingSetBefore"/> (<see cref="Environment.WorkingSet"/> when the fit began); logs what it did.</summary>
    /// <returns>The megabytes the resident set shrank by (0 when it did nothing).</returns>
    /// <param name="environment">Receives the log line.</param>
    /// <param name="workingSetBefore">The working set when the work began.</param>
    /// <param name="work">What no longer uses the memory, for the log line ("the fit").</param>
    public static long Release(IHostEnvironment environment, long workingSetBefore, string work = "the fit")
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
            $"Returned {released:N0} MB {work} no longer uses to the operating system (one full, compacting collection): resident {before >> 20:N0} -> {after >> 20:N0} MB."));
        return released;
    }
}
