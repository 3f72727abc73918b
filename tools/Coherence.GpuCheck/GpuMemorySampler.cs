using System.Diagnostics;
using System.Globalization;

namespace Coherence.GpuCheck;

/// <summary>
/// Peak GPU memory by sampling <c>nvidia-smi --query-gpu=memory.used</c> every 50 ms while a run's process
/// is alive (TorchSharp 0.107 has no torch.cuda.max_memory_allocated). This is device-wide memory in MiB:
/// it includes the CUDA context (several hundred MiB) and memory PyTorch's caching allocator holds but does
/// not use, and it can miss a spike shorter than the sampling period. The baseline (sampled before the run's
/// process starts) is reported beside it, so peak - baseline is the run's own footprint.
/// </summary>
internal sealed class GpuMemorySampler : IDisposable
{
    private readonly Process? _process;
    private readonly Thread? _reader;
    private long _peak = -1;

    private GpuMemorySampler(Process? process)
    {
        _process = process;
        if (process is null)
            return;
        _reader = new Thread(() =>
        {
            try
            {
                string? line;
                while ((line = process.StandardOutput.ReadLine()) is not null)
                {
                    if (long.TryParse(line.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long used))
                        Interlocked.Exchange(ref _peak, Math.Max(Interlocked.Read(ref _peak), used));
                }
            }
            catch (Exception)
            {
                // The sampler ends when nvidia-smi is stopped.
            }
        }) { IsBackground = true, Name = "nvidia-smi sampler" };
        _reader.Start();
    }

    public const string Method =
        "nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits sampled every 50 ms while the run's process is alive; " +
        "device-wide MiB including the CUDA context and the caching allocator's reserve; baseline sampled before the process starts";

    /// <summary>Starts sampling GPU <paramref name="index"/>; a sampler that reports null when nvidia-smi is absent.</summary>
    public static GpuMemorySampler Start(int index)
    {
        try
        {
            var info = new ProcessStartInfo("nvidia-smi",
                ["--query-gpu=memory.used", "--format=csv,noheader,nounits", "-i", index.ToString(CultureInfo.InvariantCulture), "-lms", "50"])
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            return new GpuMemorySampler(Process.Start(info));
        }
        catch (Exception)
        {
            return new GpuMemorySampler(null);
        }
    }

    /// <summary>One sample of the used memory now, or null without nvidia-smi.</summary>
    public static long? SampleOnce(int index)
    {
        string? text = Query(["--query-gpu=memory.used", "--format=csv,noheader,nounits", "-i", index.ToString(CultureInfo.InvariantCulture)]);
        return text is not null && long.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long used) ? used : null;
    }

    /// <summary>Runs nvidia-smi with the arguments; null when it is absent or fails.</summary>
    public static string? Query(string[] arguments)
    {
        try
        {
            var info = new ProcessStartInfo("nvidia-smi", arguments)
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            using var process = Process.Start(info);
            if (process is null)
                return null;
            string output = process.StandardOutput.ReadToEnd();
            if (!process.WaitForExit(10_000) || process.ExitCode != 0)
                return null;
            return output.Trim();
        }
        catch (Exception)
        {
            return null;
        }
    }

    /// <summary>Stops sampling; the peak in MiB, or null when nothing was sampled.</summary>
    public long? Stop()
    {
        if (_process is null)
            return null;
        try
        {
            if (!_process.HasExited)
                _process.Kill();
            _process.WaitForExit(5_000);
        }
        catch (Exception)
        {
            // Already gone.
        }
        _reader?.Join(5_000);
        long peak = Interlocked.Read(ref _peak);
        return peak >= 0 ? peak : null;
    }

    public void Dispose()
    {
        Stop();
        _process?.Dispose();
    }
}
